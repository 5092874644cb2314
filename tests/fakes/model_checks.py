"""Handlers that answer ``cradle models check``'s requests the way a capable model would, or
refuse images and tools the way a text-only model's server does.

The colour check is answered by looking at the image that arrived (its mean colour), so a
provider that mangles or drops the image fails it.
"""

from __future__ import annotations

import base64
import io
import itertools
from typing import Any

from PIL import Image

from cradle.llm.capabilities import COLOURS
from tests.fakes import anthropic_server as ant
from tests.fakes import responses_server as resp
from tests.fakes.openai_server import FakeResponse

ANSWER = {"word": "ready", "number": 7, "letters": ["a", "b"]}
_IDS = itertools.count(1)


def colour_of(data: str) -> str:
    """The name in COLOURS nearest to the mean colour of a base64 image or data URL."""
    raw = base64.b64decode(data.split(",", 1)[-1])
    image = Image.open(io.BytesIO(raw)).convert("RGB").resize((1, 1))
    pixel = image.getpixel((0, 0))
    return min(
        COLOURS,
        key=lambda name: sum((a - b) ** 2 for a, b in zip(COLOURS[name], pixel, strict=True)),
    )


class AnthropicChecks:
    """A Messages API model; ``images``/``tools`` False: refused as a text-only model is."""

    def __init__(self, *, images: bool = True, tools: bool = True) -> None:
        self.images, self.tools = images, tools

    def __call__(self, body: dict) -> Any:
        sources = [
            b["source"]["data"]
            for m in body["messages"]
            if isinstance(m["content"], list)
            for b in m["content"]
            if b.get("type") == "image"
        ]
        if body.get("tools") and not self.tools:
            return ant.error(400, "invalid_request_error", "tools are not supported by this model")
        if sources and not self.images:
            return ant.error(400, "invalid_request_error", "this model does not support images")
        if any(t.get("type") == "computer_20250124" for t in body.get("tools") or []):
            return ant.message(
                [ant.tool_use("computer", {"action": "screenshot"})], stop_reason="tool_use"
            )
        if ant.forced_tool(body):
            return dict(ANSWER)
        return colour_of(sources[0]) if sources else "ready"


class ResponsesChecks:
    """A Responses API model; ``images``/``tools`` False: refused as a text-only model is."""

    def __init__(self, *, images: bool = True, tools: bool = True) -> None:
        self.images, self.tools = images, tools

    def __call__(self, body: dict) -> Any:
        urls = [
            p["image_url"]
            for item in body["input"]
            if isinstance(item.get("content"), list)
            for p in item["content"]
            if p.get("type") == "input_image"
        ]
        if body.get("tools") and not self.tools:
            return resp.error(400, "Tool 'computer_use_preview' is not supported with this model.")
        if urls and not self.images:
            return resp.error(
                400, "Invalid content type. image_url is only supported by certain models."
            )
        if body.get("tools"):
            call = {
                "type": "computer_call",
                "id": f"cu_{next(_IDS)}",
                "call_id": f"call_{next(_IDS)}",
                "action": {"type": "screenshot"},
                "pending_safety_checks": [],
                "status": "completed",
            }
            return resp.response([call])
        if ((body.get("text") or {}).get("format") or {}).get("type") == "json_schema":
            return dict(ANSWER)
        return colour_of(urls[0]) if urls else "ready"


class ChatChecks:
    """A chat completions model (any response format, images by data URL)."""

    def __call__(self, body: dict) -> Any:
        urls = [
            p["image_url"]["url"]
            for m in body["messages"]
            if isinstance(m["content"], list)
            for p in m["content"]
            if p.get("type") == "image_url"
        ]
        if body.get("response_format"):
            return dict(ANSWER)
        return colour_of(urls[0]) if urls else "ready"


def unavailable(body: dict) -> FakeResponse:
    """A server whose every request fails (529 overloaded)."""
    return ant.error(529, "overloaded_error", "Overloaded")
