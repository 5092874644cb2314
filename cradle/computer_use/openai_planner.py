"""OpenAI's computer-use model as the action planner (Responses API, ``computer_use_preview``).

Each step is one ``client.responses.create`` with the tool declared at the size of the image
sent, ``truncation="auto"`` (the server bounds the conversation) and ``previous_response_id``
(the server keeps it): the first request carries the task and the screenshot, every later one
a ``computer_call_output`` per ``call_id`` of the last reply, with the new screenshot as an
``input_image`` data URL, plus a short message when an action failed or was refused.

A call's ``pending_safety_checks`` go to the confirmation gate before anything runs; they are
sent back as ``acknowledged_safety_checks`` only when the user agreed. Declined: the step
fails with that reason and nothing is run.
"""

from __future__ import annotations

from typing import Any, Literal

from cradle.computer_use.actions import NativeAction
from cradle.computer_use.base import PlanInput
from cradle.computer_use.keys import native_key
from cradle.computer_use.native import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    Exchange,
    NativeCall,
    NativePlanner,
    Parsed,
    Result,
    SafetyGate,
    feedback,
    number,
    point,
)
from cradle.errors import ModelReplyError
from cradle.llm.images import ImageFormat, data_url

TOOL_TYPE = "computer_use_preview"
Environment = Literal["linux", "windows", "mac", "browser"]
SCROLL_PIXELS = 100
"""Pixels of one wheel notch: the model scrolls in pixels, cradle's skills in notches."""
DEFAULT_WAIT = 2.0
_BUTTONS = {"left": "click", "right": "right_click", "wheel": "middle_click"}
_NAV = {"back": "browserback", "forward": "browserforward"}


def _xy(action: dict[str, Any], size: tuple[int, int], raw: str) -> tuple[int, int]:
    return point([action.get("x"), action.get("y")], size, raw)


def _action(action: dict[str, Any], size: tuple[int, int]) -> NativeAction:
    """One ``computer_call`` action as a native action (points in image pixels)."""
    raw = str(action)[:300]
    kind = action.get("type")
    if action.get("keys") and kind != "keypress":
        raise ModelReplyError(f"{kind} with held keys {action['keys']!r} is not supported")
    if kind == "click":
        button = action.get("button", "left")
        if button in _NAV:
            return NativeAction("key", keys=(_NAV[button],), raw=raw)
        if button not in _BUTTONS:
            raise ModelReplyError(f"unknown mouse button {button!r}: {raw}")
        return NativeAction(_BUTTONS[button], *_xy(action, size, raw), raw=raw)  # type: ignore[arg-type]
    if kind in ("double_click", "move"):
        return NativeAction(kind, *_xy(action, size, raw), raw=raw)  # type: ignore[arg-type]
    if kind == "drag":
        path = action.get("path")
        if not isinstance(path, list) or not all(isinstance(p, dict) for p in path):
            raise ModelReplyError(f"a drag needs a path of points: {raw}")
        return NativeAction("drag", path=tuple(_xy(p, size, raw) for p in path), raw=raw)
    if kind == "scroll":
        x, y = _xy(action, size, raw)
        return NativeAction(
            "scroll",
            x,
            y,
            scroll_x=_notches(action.get("scroll_x"), raw),
            scroll_y=_notches(action.get("scroll_y"), raw),
            raw=raw,
        )
    if kind == "keypress":
        keys = action.get("keys")
        if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            raise ModelReplyError(f"keypress needs a list of key names: {raw}")
        # The model writes key names upper-case ("CTRL", "A"): a letter is the key, not shift.
        return NativeAction("key", keys=tuple(native_key(k.lower()) for k in keys), raw=raw)
    if kind == "type":
        if not isinstance(action.get("text"), str):
            raise ModelReplyError(f"type needs text: {raw}")
        return NativeAction("type", text=action["text"], raw=raw)
    if kind == "wait":
        seconds = number(action.get("duration_ms"), "duration_ms", raw, DEFAULT_WAIT * 1000)
        return NativeAction("wait", seconds=seconds / 1000, raw=raw)
    if kind == "screenshot":
        return NativeAction("screenshot", raw=raw)
    raise ModelReplyError(f"unknown computer action {kind!r}: {raw}")


def _notches(pixels: Any, raw: str) -> int:
    value = number(pixels, "scroll amount", raw, 0.0)
    if not value:
        return 0
    notches = round(value / SCROLL_PIXELS)
    return notches or (1 if value > 0 else -1)


def _checks(item: dict[str, Any]) -> tuple[dict[str, str], ...]:
    found = item.get("pending_safety_checks") or []
    if not isinstance(found, list):
        raise ModelReplyError("pending_safety_checks is not a list")
    checks = []
    for check in found:
        if not isinstance(check, dict) or not check.get("id"):
            raise ModelReplyError(f"a pending safety check has no id: {str(check)[:200]}")
        checks.append({k: str(check[k]) for k in ("id", "code", "message") if check.get(k)})
    return tuple(checks)


def parse_response(reply: dict[str, Any], image_size: tuple[int, int]) -> Parsed:
    """A Responses API reply (as JSON) read: its computer calls, its text, whether done."""
    items = [i for i in reply.get("output") or [] if isinstance(i, dict)]
    words: list[str] = []
    calls: list[NativeCall] = []
    for item in items:
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or []:
                if part.get("type") == "refusal":
                    raise ModelReplyError(f"the model refused: {str(part.get('refusal'))[:300]}")
                if part.get("type") == "output_text":
                    words.append(str(part.get("text", "")))
        elif kind == "reasoning":
            words.extend(
                str(s.get("text", "")) for s in item.get("summary") or [] if isinstance(s, dict)
            )
        elif kind == "computer_call":
            call_id = item.get("call_id")
            if not isinstance(call_id, str) or not call_id:
                raise ModelReplyError("a computer_call has no call_id")
            action = item.get("action")
            if not isinstance(action, dict):
                raise ModelReplyError(f"computer_call {call_id} has no action")
            calls.append(NativeCall(call_id, (_action(action, image_size),), _checks(item)))
        elif kind in ("function_call", "custom_tool_call"):
            raise ModelReplyError(
                f"a call of unknown tool {item.get('name')!r} (only the computer tool was offered)"
            )
    if not calls and reply.get("status") == "incomplete":
        reason = (reply.get("incomplete_details") or {}).get("reason", "")
        raise ModelReplyError(
            f"the reply is incomplete ({reason or 'no reason'}) before any "
            "action (raise --max-output-tokens)"
        )
    text = "\n".join(w for w in words if w).strip()
    return Parsed(tuple(calls), text or ("done" if not calls else ""), done=not calls)


class OpenAIComputerPlanner(NativePlanner):
    """OpenAI's computer-use model on the Responses API; see the module docstring."""

    name = "openai-computer"
    _what = "a Responses API reply"
    _record_keys = ("id", "model", "status", "output", "incomplete_details", "usage")

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        max_retries: int = 2,
        max_output_tokens: int | None = None,
        environment: Environment = "linux",
        image_format: ImageFormat = "png",
        safety_gate: SafetyGate | None = None,
        client: Any = None,
    ) -> None:
        from cradle.llm.openai_provider import DEFAULT_BASE_URL, openai_client

        super().__init__(
            model=model,
            base_url=base_url or DEFAULT_BASE_URL,
            api_key_env=api_key_env,
            safety_gate=safety_gate,
        )
        import openai

        self._sdk = openai
        self.environment = environment
        self.image_format = image_format
        self.max_output_tokens = max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
        self.previous_id: str | None = None
        """The last reply's id: the server holds the conversation."""
        if client is None:
            client, key = openai_client(
                base_url, None, api_key_env, None, None, timeout, max_retries
            )
            self._key = key if len(key) >= 8 else ""
        self._client = client

    def _exchange(self, given: PlanInput, done: list[Result]) -> Exchange:
        image = data_url(given.image, self.image_format)
        note = feedback(given)
        items, lines = _call_outputs(done, image)
        failed = [
            f"Action {r.call_id} {'failed' if not r.ok else 'result'}: {r.text}"
            for r in done
            if r.text != "ok"
        ]
        text = "\n".join([*failed, note] if note else failed)
        if not done:
            text = f"Task: {given.task}" + (f"\n{text}" if text else "")
            items.append(
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": text},
                        {"type": "input_image", "image_url": image},
                    ],
                }
            )
        elif text:
            items.append({"role": "user", "content": [{"type": "input_text", "text": text}]})
        if text:
            lines.append(text)
        width, height = given.image.size
        tool = {
            "type": TOOL_TYPE,
            "display_width": width,
            "display_height": height,
            "environment": self.environment,
        }
        kwargs: dict[str, Any] = {
            "model": self.model,
            "input": items,
            "tools": [tool],
            "truncation": "auto",
            "max_output_tokens": self.max_output_tokens,
        }
        if self.previous_id:
            kwargs["previous_response_id"] = self.previous_id
        prompt = (
            f"[tool]\n{TOOL_TYPE} {width}x{height} {self.environment}\n"
            f"[previous_response_id]\n{self.previous_id or ''}\n[user]\n"
            + "\n".join(lines)
            + "\n[1 image(s) attached]"
        )
        return Exchange(kwargs=kwargs, prompt=prompt)

    def _create(self, exchange: Exchange) -> Any:
        return self._client.responses.create(**exchange.kwargs)

    def parse(self, reply: dict[str, Any], image_size: tuple[int, int]) -> Parsed:
        return parse_response(reply, image_size)

    def call_ids(self, reply: dict[str, Any]) -> list[str]:
        return [
            str(i["call_id"])
            for i in reply.get("output") or []
            if isinstance(i, dict) and i.get("type") == "computer_call" and i.get("call_id")
        ]

    def _commit(self, exchange: Exchange, reply: dict[str, Any]) -> None:
        reply_id = reply.get("id")
        self.previous_id = str(reply_id) if reply_id else None


def _call_outputs(done: list[Result], image: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Each call of the last reply answered with the new screenshot (and the safety checks
    acknowledged), as input items and as the lines of the recorded prompt."""
    items: list[dict[str, Any]] = []
    lines: list[str] = []
    for result in done:
        output: dict[str, Any] = {
            "type": "computer_call_output",
            "call_id": result.call_id,
            "output": {"type": "computer_screenshot", "image_url": image},
        }
        line = f"computer_call_output {result.call_id}: {result.text} + screenshot"
        if result.acknowledged:
            output["acknowledged_safety_checks"] = [dict(c) for c in result.acknowledged]
            line += f" (acknowledged {len(result.acknowledged)} safety check(s))"
        items.append(output)
        lines.append(line)
    return items, lines
