"""Claude's computer tool as the action planner (``computer_20250124``, beta header).

Each step is one ``client.beta.messages.create`` with the tool declared at the size of the
image sent (never the real screen: the action runner maps the model's image pixels to the
screen through the one coordinate mapping). The conversation lives in this object for the
episode: every ``tool_use`` of a reply is answered on the next step by a ``tool_result`` with
its id, carrying the new screenshot (on the last one) and, when the action failed or was
refused, ``is_error`` with the reason. A reply without tool use that ends its turn is done.

The history is bounded: screenshots older than the last ``keep_images`` turns become a text
note, and beyond ``max_turns`` exchanges the oldest (after the task) are dropped in pairs, so
every ``tool_result`` still follows its ``tool_use``.
"""

from __future__ import annotations

import os
from typing import Any

from cradle.computer_use.actions import MAX_WAIT, NativeAction
from cradle.computer_use.base import PlanInput
from cradle.computer_use.keys import native_chord
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
from cradle.llm.images import ImageFormat

TOOL_NAME = "computer"
TOOL_TYPE = "computer_20250124"
SYSTEM = (
    "You operate a computer through the computer tool to do the user's task. Each "
    "screenshot is the whole screen; coordinates are pixels of that screenshot. Act with the "
    "tool until the task is done, then reply with a short summary and no tool call."
)
OMITTED = "[an earlier screenshot, omitted to bound the conversation]"
_CLICKS = {
    "left_click": "click",
    "right_click": "right_click",
    "middle_click": "middle_click",
    "double_click": "double_click",
    "triple_click": "triple_click",
}
_SCROLL = {"down": (0, 1), "up": (0, -1), "right": (1, 0), "left": (-1, 0)}
MAX_CHORDS = 8


def _action(value: dict[str, Any], size: tuple[int, int]) -> NativeAction:
    """One computer tool input as a native action (points in image pixels)."""
    raw = str(value)[:300]
    kind = value.get("action")
    text = value.get("text")
    at = point(value["coordinate"], size, raw) if value.get("coordinate") is not None else None
    x, y = at if at else (None, None)
    if kind in _CLICKS:
        if text:
            raise ModelReplyError(
                f"{kind} with held keys ({text!r}) is not supported: press "
                "them with hold_key or key instead"
            )
        return NativeAction(_CLICKS[kind], x, y, raw=raw)
    if kind == "mouse_move":
        return NativeAction("move", x, y, raw=raw)
    if kind == "left_click_drag":
        if value.get("start_coordinate") is None or at is None:
            raise ModelReplyError(f"left_click_drag needs start_coordinate and coordinate: {raw}")
        start = point(value["start_coordinate"], size, raw)
        return NativeAction("drag", path=(start, at), raw=raw)
    if kind in ("left_mouse_down", "left_mouse_up"):
        return NativeAction("mouse_down" if kind.endswith("down") else "mouse_up", x, y, raw=raw)
    if kind == "scroll":
        return _scroll(value, x, y, raw)
    if kind in ("type", "key", "hold_key"):
        if not isinstance(text, str) or not text:
            raise ModelReplyError(f"{kind} needs text: {raw}")
        if kind == "type":
            return NativeAction("type", text=text, raw=raw)
        seconds = number(value.get("duration"), "duration", raw, 1.0)
        return NativeAction(kind, keys=native_chord(text), seconds=seconds, raw=raw)
    if kind == "wait":
        return NativeAction(
            "wait",
            seconds=min(MAX_WAIT, number(value.get("duration"), "duration", raw, 1.0)),
            raw=raw,
        )
    if kind in ("screenshot", "cursor_position"):
        return NativeAction(kind, raw=raw)
    raise ModelReplyError(f"unknown computer action {kind!r}: {raw}")


def _actions(value: dict[str, Any], size: tuple[int, int]) -> tuple[NativeAction, ...]:
    """A tool input as actions: xdotool's ``key`` takes several chords ("ctrl+a ctrl+c")."""
    text = value.get("text")
    if value.get("action") == "key" and isinstance(text, str) and len(text.split()) > 1:
        chords = text.split()
        if len(chords) > MAX_CHORDS:
            raise ModelReplyError(f"at most {MAX_CHORDS} key chords in one action: {text[:200]!r}")
        return tuple(_action({**value, "text": chord}, size) for chord in chords)
    return (_action(value, size),)


def _scroll(value: dict[str, Any], x: int | None, y: int | None, raw: str) -> NativeAction:
    direction = value.get("scroll_direction")
    if direction not in _SCROLL:
        raise ModelReplyError(f"scroll_direction must be up, down, left or right: {raw}")
    if value.get("text"):
        raise ModelReplyError(f"scroll with held keys ({value['text']!r}) is not supported")
    amount = int(number(value.get("scroll_amount"), "scroll_amount", raw, 3.0))
    dx, dy = _SCROLL[direction]
    return NativeAction("scroll", x, y, scroll_x=dx * amount, scroll_y=dy * amount, raw=raw)


def parse_message(reply: dict[str, Any], image_size: tuple[int, int]) -> Parsed:
    """A Messages API reply (as JSON) read: its computer calls, its text, whether done."""
    stop = reply.get("stop_reason")
    blocks = [b for b in reply.get("content") or [] if isinstance(b, dict)]
    text = "\n".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text").strip()
    if stop == "refusal":
        raise ModelReplyError(f"the model refused: {text[:300] or '(no reason given)'}")
    calls: list[NativeCall] = []
    for block in blocks:
        if block.get("type") != "tool_use":
            continue
        if block.get("name") != TOOL_NAME:
            raise ModelReplyError(
                f"tool_use for unknown tool {block.get('name')!r} (only {TOOL_NAME!r} was offered)"
            )
        call_id = block.get("id")
        if not isinstance(call_id, str) or not call_id:
            raise ModelReplyError("a tool_use block has no id")
        value = block.get("input")
        if not isinstance(value, dict):
            raise ModelReplyError(f"tool_use {call_id} has no input object")
        calls.append(NativeCall(call_id, _actions(value, image_size)))
    if not calls and stop == "max_tokens":
        raise ModelReplyError("the reply was cut off before any action (raise --max-output-tokens)")
    return Parsed(tuple(calls), text or ("done" if not calls else ""), done=not calls)


class AnthropicComputerPlanner(NativePlanner):
    """Claude with the computer tool; see the module docstring."""

    name = "anthropic-computer"
    _what = "a Messages API reply"
    _record_keys = ("id", "model", "content", "stop_reason", "usage")

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "ANTHROPIC_API_KEY",
        timeout: float = 120.0,
        max_retries: int = 2,
        max_output_tokens: int | None = None,
        keep_images: int = 3,
        max_turns: int = 20,
        image_format: ImageFormat = "png",
        safety_gate: SafetyGate | None = None,
        client: Any = None,
    ) -> None:
        import anthropic

        from cradle.llm.anthropic_provider import DEFAULT_BASE_URL
        from cradle.llm.sdk_provider import resolve_key

        base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        super().__init__(
            model=model,
            base_url=base_url or DEFAULT_BASE_URL,
            api_key_env=api_key_env,
            safety_gate=safety_gate,
        )
        self._sdk = anthropic
        self.max_output_tokens = max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
        self.keep_images = max(1, keep_images)
        self.max_turns = max(1, max_turns)
        self.image_format = image_format
        self.messages: list[dict[str, Any]] = []
        """The conversation so far (user turns with screenshots, assistant turns)."""
        if client is None:
            needed = not base_url or base_url.rstrip("/") == DEFAULT_BASE_URL
            key = resolve_key(
                None,
                api_key_env,
                needed=needed,
                local_hint="or point --planner-base-url at a compatible server",
            )
            self._key = key if len(key) >= 8 else ""
            client = anthropic.Anthropic(
                base_url=base_url,
                api_key=key or "not-needed",
                timeout=timeout,
                max_retries=max_retries,
            )
        self._client = client

    # ------------------------------------------------------------------ the request

    def _image(self, given: PlanInput) -> dict[str, Any]:
        import base64

        from cradle.llm.images import encode

        data = base64.b64encode(encode(given.image, self.image_format)).decode("ascii")
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": f"image/{self.image_format}", "data": data},
        }

    def _exchange(self, given: PlanInput, done: list[Result]) -> Exchange:
        image = self._image(given)
        note = feedback(given)
        content: list[dict[str, Any]] = []
        lines: list[str] = []
        for n, result in enumerate(done):
            last = n == len(done) - 1
            parts: list[dict[str, Any]] = (
                [] if result.text == "ok" else [{"type": "text", "text": result.text}]
            )
            if last:
                parts.append(image)
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": result.call_id,
                "content": parts or [{"type": "text", "text": "ok"}],
            }
            if not result.ok:
                block["is_error"] = True
            content.append(block)
            lines.append(
                f"tool_result {result.call_id}: {result.text}" + (" + screenshot" if last else "")
            )
        if not done:
            task = f"Task: {given.task}" + (f"\n{note}" if note else "")
            content = [image, {"type": "text", "text": task}]
            lines = [task]
        elif note:
            content.append({"type": "text", "text": note})
            lines.append(note)
        messages = self._bounded([*self.messages, {"role": "user", "content": content}])
        width, height = given.image.size
        tool = {
            "type": TOOL_TYPE,
            "name": TOOL_NAME,
            "display_width_px": width,
            "display_height_px": height,
        }
        kwargs = {
            "model": self.model,
            "max_tokens": self.max_output_tokens,
            "system": SYSTEM,
            "messages": messages,
            "tools": [tool],
            "betas": [_beta()],
        }
        prompt = (
            f"[system]\n{SYSTEM}\n[tool]\n{TOOL_TYPE} {width}x{height}\n[user]\n"
            + "\n".join(lines)
            + "\n[1 image(s) attached]"
        )
        return Exchange(kwargs=kwargs, prompt=prompt, state=messages)

    def _bounded(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Old exchanges dropped in (assistant, user) pairs after the first user turn; old
        screenshots replaced by a note (the messages are copied where changed)."""
        while len(messages) > 2 * self.max_turns + 1:
            messages = [messages[0], *messages[3:]]
        seen = 0
        out: list[dict[str, Any]] = []
        for message in reversed(messages):
            if message["role"] == "user" and isinstance(message["content"], list):
                has = any(_has_image(b) for b in message["content"])
                seen += has
                if has and seen > self.keep_images:
                    message = {
                        **message,
                        "content": [_without_image(b) for b in message["content"]],
                    }
            out.append(message)
        return out[::-1]

    def _create(self, exchange: Exchange) -> Any:
        return self._client.beta.messages.create(**exchange.kwargs)

    def _usage(self, response: Any) -> tuple[int, int]:
        from cradle.llm.anthropic_provider import usage_tokens

        return usage_tokens(getattr(response, "usage", None))

    # ------------------------------------------------------------------ the reply

    def parse(self, reply: dict[str, Any], image_size: tuple[int, int]) -> Parsed:
        return parse_message(reply, image_size)

    def call_ids(self, reply: dict[str, Any]) -> list[str]:
        return [
            str(b["id"])
            for b in reply.get("content") or []
            if isinstance(b, dict)
            and b.get("type") == "tool_use"
            and b.get("id")
            and b.get("name") == TOOL_NAME
        ]

    def _commit(self, exchange: Exchange, reply: dict[str, Any]) -> None:
        content = [_request_block(b) for b in reply.get("content") or [] if isinstance(b, dict)]
        content = [b for b in content if b is not None]
        self.messages = [
            *exchange.state,
            {"role": "assistant", "content": content or [{"type": "text", "text": "(no reply)"}]},
        ]


def _beta() -> str:
    from cradle.llm.anthropic_provider import COMPUTER_BETA

    return COMPUTER_BETA


def _request_block(block: dict[str, Any]) -> dict[str, Any] | None:
    """A reply block as the next request sends it back: text, and the computer tool's calls
    (a call without an id cannot be answered, one of a tool not offered is not sent back)."""
    if block.get("type") == "text" and block.get("text"):
        return {"type": "text", "text": str(block["text"])}
    if block.get("type") == "tool_use" and block.get("id") and block.get("name") == TOOL_NAME:
        value = block.get("input")
        return {
            "type": "tool_use",
            "id": block["id"],
            "name": str(block.get("name", "")),
            "input": value if isinstance(value, dict) else {},
        }
    return None


def _has_image(block: dict[str, Any]) -> bool:
    if block.get("type") == "image":
        return True
    content = block.get("content")
    return isinstance(content, list) and any(b.get("type") == "image" for b in content)


def _without_image(block: dict[str, Any]) -> dict[str, Any]:
    if block.get("type") == "image":
        return {"type": "text", "text": OMITTED}
    content = block.get("content")
    if isinstance(content, list):
        return {
            **block,
            "content": [
                {"type": "text", "text": OMITTED} if b.get("type") == "image" else b
                for b in content
            ],
        }
    return block
