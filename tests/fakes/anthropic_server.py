"""A local Anthropic Messages API server for tests, run by the real ``anthropic`` SDK.

``POST /v1/messages`` only. Each request is checked against the documented shape before the
handler sees it: an API key (``x-api-key`` or ``Authorization: Bearer``) else 401, the
``anthropic-version`` header, ``model``, ``max_tokens``, alternating ``messages`` starting with
the user, known content blocks (text, base64 image, tool_use, tool_result), every tool_result
answering a tool_use of the assistant turn before it, tools with an ``input_schema`` (or a
typed tool such as ``computer_20250124`` with its display size), ``tool_choice`` naming a
tool that was given. Anything else is answered 400 ``invalid_request_error`` as the API does.

The handler returns a dict (the forced tool is called with it as ``input``), a string (a text
reply), or a ``FakeResponse`` (any status and body, e.g. ``message(...)`` or ``error(...)``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse, Handler

_IDS = itertools.count(1)
_BLOCKS = {"text", "image", "tool_use", "tool_result"}
_MEDIA = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def error(status: int, kind: str, text: str) -> FakeResponse:
    """An error in the API's shape (``authentication_error``, ``overloaded_error``, ...)."""
    return FakeResponse(status, {"type": "error", "error": {"type": kind, "message": text}})


def tool_use(name: str, value: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{next(_IDS):04d}", "name": name, "input": value}


def message(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 100,
    output_tokens: int = 20,
    **usage: int,
) -> FakeResponse:
    """A Messages API reply (``usage`` may add cache_read_input_tokens and the like)."""
    return FakeResponse(
        200,
        {
            "id": f"msg_{next(_IDS):04d}",
            "type": "message",
            "role": "assistant",
            "model": "fake-claude",
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens, **usage},
        },
    )


def forced_tool(body: dict) -> str | None:
    """The tool a request forces with ``tool_choice`` (None: no tool forced)."""
    choice = body.get("tool_choice") or {}
    return choice.get("name") if choice.get("type") == "tool" else None


def _block_problem(block: Any, previous: dict | None) -> str | None:
    if not isinstance(block, dict) or block.get("type") not in _BLOCKS:
        return f"unknown content block {block!r:.80}"
    kind = block["type"]
    if kind == "text" and not isinstance(block.get("text"), str):
        return "text block without text"
    if kind == "image":
        source = block.get("source") or {}
        if (
            source.get("type") != "base64"
            or source.get("media_type") not in _MEDIA
            or not source.get("data")
        ):
            return "image.source: expected base64 data with a media_type"
    if kind == "tool_use" and not (
        block.get("id") and block.get("name") and isinstance(block.get("input"), dict)
    ):
        return "tool_use needs id, name and an input object"
    if kind == "tool_result":
        asked = [
            b.get("id")
            for b in (previous or {}).get("content", [])
            if isinstance(b, dict) and b.get("type") == "tool_use"
        ]
        if block.get("tool_use_id") not in asked:
            return (
                "tool_result block(s) provided when previous message does not have the "
                "corresponding tool_use block"
            )
    return None


def _message_problems(messages: Any) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for index, item in enumerate(messages):
        role = "user" if index % 2 == 0 else "assistant"
        if item.get("role") != role:
            return f"messages.{index}.role: roles must alternate, starting with user"
        content = item.get("content")
        if isinstance(content, str):
            if not content:
                return f"messages.{index}: text content blocks must be non-empty"
            continue
        if not isinstance(content, list) or not content:
            return f"messages.{index}.content: a string or a non-empty list of blocks"
        previous = messages[index - 1] if index else None
        for block in content:
            problem = _block_problem(block, previous)
            if problem:
                return f"messages.{index}.content: {problem}"
    return None


def _tool_problems(body: dict) -> str | None:
    names = []
    for tool in body.get("tools") or []:
        if tool.get("type", "custom") == "custom":
            schema = tool.get("input_schema") or {}
            if not tool.get("name") or schema.get("type") != "object":
                return "tools: each tool needs a name and an input_schema of type object"
        elif not (tool.get("display_width_px") and tool.get("display_height_px")):
            return f"tools: {tool.get('type')} needs display_width_px and display_height_px"
        names.append(tool.get("name"))
    forced = forced_tool(body)
    if forced is not None and forced not in names:
        return f"tool_choice: tool {forced!r} was not given"
    return None


def request_problem(path: str, headers: dict[str, str], body: dict) -> FakeResponse | None:
    """The API's answer to a request it would refuse; None when the request is well formed."""
    if path.rstrip("/") != "/v1/messages":
        return error(404, "not_found_error", f"no route {path}")
    if not (headers.get("x-api-key") or headers.get("authorization", "").startswith("Bearer ")):
        return error(401, "authentication_error", "x-api-key header is required")
    if not headers.get("anthropic-version"):
        return error(400, "invalid_request_error", "anthropic-version header is required")
    if (
        not isinstance(body.get("model"), str)
        or not isinstance(body.get("max_tokens"), int)
        or body["max_tokens"] < 1
    ):
        return error(400, "invalid_request_error", "model and max_tokens are required")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        return error(400, "invalid_request_error", "system: a string or text blocks")
    problem = _message_problems(body.get("messages")) or _tool_problems(body)
    return error(400, "invalid_request_error", problem) if problem else None


class FakeAnthropicServer(FakeOpenAIServer):
    """``with FakeAnthropicServer(handler) as server:``; ``server.base_url`` has no /v1 (the
    SDK adds it)."""

    def __init__(self, handler: Handler | None = None, *, replies: Iterable[Any] = ()) -> None:
        super().__init__(handler, replies=replies)

    @property
    def base_url(self) -> str:
        return super().base_url.removesuffix("/v1")

    def answer(self, path: str, headers: dict[str, str], body: dict) -> FakeResponse:
        refused = request_problem(path, headers, body)
        if refused is not None:
            return refused
        result = self._handler(body)
        if isinstance(result, dict):
            name = forced_tool(body) or (body.get("tools") or [{}])[0].get("name", "tool")
            return message([tool_use(name, result)], stop_reason="tool_use")
        if isinstance(result, str):
            return message([{"type": "text", "text": result}])
        if result.status == 500 and "script exhausted" in str(result.body):
            return error(500, "api_error", "fake server: script exhausted")
        return result

    # ----------------------------------------------------------------- inspection helpers

    def images(self, index: int) -> list[dict[str, Any]]:
        """The image blocks' sources of request ``index``."""
        return [
            block["source"]
            for item in self.requests[index]["messages"]
            if isinstance(item["content"], list)
            for block in item["content"]
            if block.get("type") == "image"
        ]
