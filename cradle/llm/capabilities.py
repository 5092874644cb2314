"""What a model endpoint can do, asked before a long run (``cradle models check``).

One small request per capability a run needs: a plain text reply (the key, the model name and
the server are right), image input (a generated image filled with a colour the model must
name: a server that drops images silently fails here, not twenty steps into a run),
structured output (through the provider's own path: the fallback chain of an
OpenAI-compatible server reports the mode it accepted), and the computer tool where the API
has one (Anthropic's ``computer_20250124`` with its beta header, OpenAI's
``computer_use_preview`` on the Responses API). Which of them a run needs depends on its
``--mode`` and on ``--no-vision``; the rest are reported but do not fail the check.

After a failed text reply nothing else is asked: the other requests would fail for the same
reason (unreachable, key refused), each after its own timeout.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel, Field

from cradle.errors import ModelError, ModelReplyError

Status = Literal["ok", "failed", "not supported", "n/a", "skipped"]
CHECK_MODES = ("modular", "fused", "computer-use")
COLOURS = {"red": (220, 30, 30), "green": (30, 170, 60), "blue": (40, 80, 230)}
DISPLAY = (1280, 720)
"""The display size declared with the computer tool: a 1080p screen's screenshot as sent."""
_SHOWN = 60
"""Characters of a model's reply shown in the table."""
_TRANSIENT = ("in time", "cannot reach", "connection", "rate limited", "overloaded")


class CheckAnswer(BaseModel):
    """The structured reply the check asks for: small, but with a string, a number and a list."""

    word: str = Field(description="The word you were asked for")
    number: int = Field(description="The number you were asked for")
    letters: list[str] = Field(description="The letters you were asked for")


@dataclass
class Check:
    """One capability: whether it works, what was seen, and whether the run needs it."""

    name: str
    status: Status
    detail: str
    needed: bool
    latency_ms: float | None = None

    @property
    def passed(self) -> bool:
        return self.status == "ok" or not self.needed


def needs(mode: str, provider: Any, vision: bool) -> set[str]:
    """The capabilities a run in ``mode`` needs from ``provider``."""
    if mode == "computer-use":
        own_tool = hasattr(provider, "try_computer_tool")
        return {
            "text reply",
            *(["computer tool"] if own_tool else []),
            *(["image input"] if vision else []),
        }
    return {"text reply", "structured output", *(["image input"] if vision else [])}


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= _SHOWN else flat[: _SHOWN - 3] + "...")


def check_text(provider: Any) -> tuple[Status, str, float | None]:
    reply, latency = provider.ask_text("Reply with the single word: ready")
    if not reply.strip():
        return "failed", "the reply was empty", latency
    return "ok", f"replied {_shown(reply)}", latency


def colour_image(colour: str) -> Image.Image:
    """A small image filled with ``colour`` (one of COLOURS)."""
    return Image.new("RGB", (96, 64), COLOURS[colour])


def check_image(provider: Any, colour: str) -> tuple[Status, str, float | None]:
    question = "What colour fills this image? Answer with one word: red, green or blue."
    reply, latency = provider.ask_text(question, images=(colour_image(colour),))
    if colour in reply.lower():
        return "ok", f"named the colour ({colour})", latency
    return (
        "failed",
        (
            f"asked for the colour of a {colour} image, replied {_shown(reply)}: "
            "the image may not reach the model"
        ),
        latency,
    )


def check_structured(provider: Any) -> tuple[Status, str, float | None]:
    from cradle.llm.base import ModelRequest

    request = ModelRequest(
        module="check",
        system="You answer with a JSON object of the requested shape.",
        user="Give the word 'ready', the number 7 and the letters a and b.",
        output_model=CheckAnswer,
        max_output_tokens=256,
    )
    reply = provider.complete(request)
    answered = [c for c in reply.calls if not c.request_failed][-1]
    refused = [c.response_mode for c in reply.calls if c.request_failed]
    mode = answered.response_mode
    detail = f"{mode}" + (f" (refused: {', '.join(refused)})" if refused else "")
    if len([c for c in reply.calls if not c.request_failed]) > 1:
        detail += ", after a repair"
    return "ok", detail, round(sum(c.latency_ms for c in reply.calls), 2)


def check_computer(provider: Any) -> tuple[Status, str, float | None]:
    probe = getattr(provider, "try_computer_tool", None)
    if probe is None:
        return (
            "n/a",
            "this API has no computer tool (use --action-format with an open GUI "
            "model, or --provider anthropic / openai-responses)",
            None,
        )
    said, latency = probe(*DISPLAY)
    return "ok", said, latency


def run_checks(provider: Any, *, mode: str, vision: bool, colour: str | None = None) -> list[Check]:
    """Every check in order, each marked with whether ``mode`` needs it."""
    needed = needs(mode, provider, vision)
    colour = colour or random.choice(sorted(COLOURS))
    steps = [
        ("text reply", lambda: check_text(provider)),
        ("image input", lambda: check_image(provider, colour)),
        ("structured output", lambda: check_structured(provider)),
        ("computer tool", lambda: check_computer(provider)),
    ]
    results: list[Check] = []
    for name, run in steps:
        if results and results[0].status != "ok":
            results.append(Check(name, "skipped", "the text reply failed", name in needed))
            continue
        status, detail, latency = _guarded(name, run)
        results.append(Check(name, status, detail, name in needed, latency))
    return results


def _guarded(name: str, run: Any) -> tuple[Status, str, float | None]:
    """A check's result; a refused request is "not supported" (with the server's reason)
    for the optional features, "failed" otherwise; never an exception."""
    try:
        return run()
    except ModelReplyError as exc:
        return "failed", str(exc), None
    except ModelError as exc:
        # The text reply came back, so a request refused here is refused for its feature,
        # unless the service was slow, unreachable or overloaded this time.
        passing = any(word in str(exc) for word in _TRANSIENT)
        refused = name != "text reply" and not passing
        return ("not supported" if refused else "failed"), str(exc), None
    except Exception as exc:  # noqa: BLE001 - a check reports, it never raises
        return "failed", f"{type(exc).__name__}: {exc}", None
