"""The model provider for Anthropic's Messages API (``--provider anthropic``).

The Messages API has no JSON response format; structured output is tool use: one tool whose
``input_schema`` is the reply model's schema, forced with ``tool_choice``, so the answer is the
tool call's ``input`` object, validated like any reply. An input that does not fit is sent
back once as the tool's result with ``is_error`` and the validation error (the conversation
the API expects after a failed tool call); a reply with no tool call gets one request to call
it. Images go as base64 image blocks, the system prompt as ``system``, and ``max_tokens``
(which the API requires) is sized like every provider's. A refusal (``stop_reason`` refusal)
ends the request at once; a reply cut off at ``max_tokens`` says to raise
--max-output-tokens.

Usage: ``input_tokens`` plus the cache tokens when the API reports them (cache writes and
reads are input the model processed, and count towards --max-tokens), ``output_tokens``.
The ``anthropic`` SDK retries 429, 529 (overloaded), other 5xx and connection failures by
itself (``max_retries``); what still fails is one line (``cradle.llm.sdk_provider``).
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from pydantic import BaseModel, ValidationError

from cradle.errors import ModelReplyError
from cradle.llm.base import ModelRequest
from cradle.llm.images import ImageFormat, encode
from cradle.llm.schema import schema_name, strict_schema, validation_summary
from cradle.llm.sdk_provider import SdkProvider, Sent, bounded_echo, resolve_key
from cradle.types import ModelCall

DEFAULT_BASE_URL = "https://api.anthropic.com"
COMPUTER_BETA = "computer-use-2025-01-24"
"""The beta header value that enables the ``computer_20250124`` tool."""


class AnthropicProvider(SdkProvider):
    """Messages API with images, tool-use structured output, repair and usage records."""

    _what = "a Messages API reply"

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str = "ANTHROPIC_API_KEY",
        timeout: float = 120.0,
        max_retries: int = 2,
        repair_attempts: int = 1,
        image_format: ImageFormat = "jpeg",
        max_output_tokens: int | None = None,
        client: Any = None,
    ) -> None:
        import anthropic  # 2-5 s to import (2.14, 2 loaded cores): only its runs pay it

        base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        super().__init__(
            model=model,
            base_url=base_url or DEFAULT_BASE_URL,
            api_key_env=api_key_env,
            repair_attempts=repair_attempts,
            max_output_tokens=max_output_tokens,
        )
        self._sdk = anthropic
        self.image_format = image_format
        if client is None:
            needed = not base_url or base_url.rstrip("/") == DEFAULT_BASE_URL
            key = resolve_key(
                api_key,
                api_key_env,
                needed=needed,
                local_hint="or point --base-url at an Anthropic-compatible server",
            )
            self._keep_key(key)
            client = anthropic.Anthropic(
                base_url=base_url,
                api_key=key or "not-needed",
                timeout=timeout,
                max_retries=max_retries,
            )
        self._client = client

    # ------------------------------------------------------------------ request building

    def _content(self, text: str, images: tuple[Any, ...]) -> str | list[dict[str, Any]]:
        """Plain text alone; with images, image blocks first (as the API advises), then text."""
        if not images:
            return text
        blocks: list[dict[str, Any]] = [self.image_block(image) for image in images]
        blocks.append({"type": "text", "text": text})
        return blocks

    def image_block(self, image: Any) -> dict[str, Any]:
        """A base64 image content block of ``image`` (a PIL image)."""
        data = base64.b64encode(encode(image, self.image_format)).decode("ascii")
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": f"image/{self.image_format}", "data": data},
        }

    def _kwargs(self, request: ModelRequest, tail: list[Any]) -> dict[str, Any]:
        name = schema_name(request.output_model)
        # No temperature: the SDK (2.x) no longer takes sampling parameters.
        return {
            "model": self._model,
            "max_tokens": self._reply_budget(request),
            "system": request.system,
            "messages": [
                {"role": "user", "content": self._content(request.user, request.images)},
                *tail,
            ],
            "tools": [
                {
                    "name": name,
                    "input_schema": strict_schema(request.output_model),
                    "description": f"Give your answer as {name}: every field, your own values.",
                }
            ],
            "tool_choice": {"type": "tool", "name": name},
        }

    # ------------------------------------------------------------------ the reply hooks

    def _send(self, request: ModelRequest, tail: list[Any], prompt: str) -> Sent:
        kwargs = self._kwargs(request, tail)
        response, latency = self._timed(
            lambda: self._client.messages.create(**kwargs), request, "tool_use", prompt
        )
        name = kwargs["tool_choice"]["name"]
        called = _tool_call(response, name)
        text = json.dumps(called["input"]) if called else _text(response)
        input_tokens, output_tokens = usage_tokens(getattr(response, "usage", None))
        call = ModelCall(
            module=request.module,
            model=self._model,
            response_mode="tool_use",
            prompt=prompt,
            images=len(request.images),
            reply=text,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=round(latency, 2),
        )
        stop = str(getattr(response, "stop_reason", "") or "")
        refusal = (
            (_text(response) or "the reply was withheld (stop_reason refusal)")
            if stop == "refusal"
            else ""
        )
        return Sent(call=call, text=text, raw=(response, called, name, request), refusal=refusal)

    def _parse(self, request: ModelRequest, sent: Sent) -> BaseModel:
        _, called, name, _ = sent.raw
        suffix = self._cut_off_note(request) if self._cut_off(sent.raw) else ""
        if called is None:
            raise ModelReplyError(
                f"the model answered without calling the tool {name}{suffix}", reply=sent.text
            )
        try:
            return request.output_model.model_validate(called["input"])
        except ValidationError as exc:
            raise ModelReplyError(
                f"tool input does not fit {request.output_model.__name__}: "
                f"{validation_summary(exc)}{suffix}",
                reply=sent.text,
            ) from None

    def _cut_off(self, raw: Any) -> bool:
        return str(getattr(raw[0], "stop_reason", "") or "") == "max_tokens"

    def _repair(self, sent: Sent, error: str) -> tuple[list[Any], str]:
        """The assistant's turn as it was, then the error as the tool's result (or, with no
        tool call, a request to make it)."""
        response, called, name, _ = sent.raw
        assistant = _assistant_blocks(response) or [{"type": "text", "text": "(empty reply)"}]
        if called is not None:
            note = (
                f"Error: {error}. Call {name} again with a corrected input: every field, "
                "your own values."
            )
            reply: list[dict[str, Any]] = [
                {
                    "type": "tool_result",
                    "tool_use_id": called["id"],
                    "is_error": True,
                    "content": note,
                }
            ]
        else:
            note = f"Your reply was not usable: {error}. Answer by calling the tool {name}."
            reply = [{"type": "text", "text": note}]
        return [
            {"role": "assistant", "content": assistant},
            {"role": "user", "content": reply},
        ], note

    # ------------------------------------------------------------------ cradle models check

    def ask_text(self, user: str, images: tuple = (), max_tokens: int = 32) -> tuple[str, float]:
        """A plain text reply to ``user`` and its latency."""
        response, latency = self.probe(
            lambda client: client.messages.create(
                model=self._model,
                max_tokens=max_tokens,
                messages=[{"role": "user", "content": self._content(user, images)}],
            )
        )
        return _text(response), latency

    def try_computer_tool(self, width: int, height: int) -> tuple[str, float]:
        """One request offering the ``computer_20250124`` tool (beta header): what came back."""
        tool = {
            "type": "computer_20250124",
            "name": "computer",
            "display_width_px": width,
            "display_height_px": height,
        }
        response, latency = self.probe(
            lambda client: client.beta.messages.create(
                model=self._model,
                max_tokens=256,
                tools=[tool],
                betas=[COMPUTER_BETA],
                messages=[{"role": "user", "content": "Take a screenshot to see the screen."}],
            )
        )
        called = _tool_call(response, "computer")
        action = (called or {}).get("input", {}).get("action") if called else None
        return (
            f"the model called the computer tool ({action})"
            if called
            else "accepted; the model answered in text"
        ), latency


def usage_tokens(usage: Any) -> tuple[int, int]:
    """(input, output) tokens of a Messages API usage, cache writes and reads included."""
    total_in = sum(
        int(getattr(usage, name, 0) or 0)
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return total_in, int(getattr(usage, "output_tokens", 0) or 0)


def _blocks(response: Any) -> list[Any]:
    content = getattr(response, "content", None)
    return list(content) if isinstance(content, list) else []


def _tool_call(response: Any, name: str) -> dict[str, Any] | None:
    """The first call of tool ``name`` (id and input), if the reply made one."""
    for block in _blocks(response):
        if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == name:
            value = getattr(block, "input", None)
            return {
                "id": str(getattr(block, "id", "")),
                "input": value if isinstance(value, dict) else {},
            }
    return None


def _text(response: Any) -> str:
    return "\n".join(
        str(getattr(b, "text", "")) for b in _blocks(response) if getattr(b, "type", None) == "text"
    )


def _assistant_blocks(response: Any) -> list[dict[str, Any]]:
    """The reply's text and tool_use blocks as request blocks, to send back in a repair."""
    out: list[dict[str, Any]] = []
    for block in _blocks(response):
        kind = getattr(block, "type", None)
        if kind == "text" and getattr(block, "text", ""):
            out.append({"type": "text", "text": bounded_echo(str(block.text))})
        elif kind == "tool_use":
            value = getattr(block, "input", None)
            out.append(
                {
                    "type": "tool_use",
                    "id": block.id,
                    "name": block.name,
                    "input": value if isinstance(value, dict) else {},
                }
            )
    return out
