"""A local OpenAI Responses API server for tests, run by the real ``openai`` SDK.

``POST /v1/responses`` only. Requests are checked against the documented shape: a bearer key
(401 otherwise), ``model``, ``input`` (a string or items: messages whose content is a string or
``input_text`` / ``input_image`` parts, or ``computer_call_output`` items), ``instructions`` a
string, ``text.format`` (``json_schema`` needs ``name`` and ``schema``), ``max_output_tokens``
a positive number. Anything else is answered 400 in OpenAI's error shape.

The handler returns a dict (sent as JSON ``output_text``), a string (``output_text`` as is), or
a ``FakeResponse`` (``response(...)`` for other output items, or any status and body).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable
from typing import Any

from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse, Handler

_IDS = itertools.count(1)
_PARTS = {"input_text", "input_image"}


def error(status: int, text: str, kind: str = "invalid_request_error") -> FakeResponse:
    return FakeResponse(
        status, {"error": {"message": text, "type": kind, "param": None, "code": None}}
    )


def text_message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{next(_IDS):04d}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def refusal_message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{next(_IDS):04d}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "refusal", "refusal": text}],
    }


def response(
    output: list[dict[str, Any]],
    *,
    input_tokens: int = 100,
    output_tokens: int = 20,
    status: str = "completed",
    incomplete: str | None = None,
) -> FakeResponse:
    """A Responses API reply with ``output`` items and usage."""
    return FakeResponse(
        200,
        {
            "id": f"resp_{next(_IDS):04d}",
            "object": "response",
            "created_at": int(time.time()),
            "model": "fake-gpt",
            "status": status,
            "output": output,
            "incomplete_details": {"reason": incomplete} if incomplete else None,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        },
    )


def _item_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "input items must be objects"
    if item.get("type") == "computer_call_output":
        output = item.get("output") or {}
        if not item.get("call_id") or output.get("type") != "computer_screenshot":
            return "computer_call_output needs call_id and a computer_screenshot output"
        return None
    if item.get("role") not in ("user", "assistant", "system", "developer"):
        return f"input item of unknown role {item.get('role')!r}"
    content = item.get("content")
    if isinstance(content, str):
        return None
    if not isinstance(content, list) or not content:
        return "message content: a string or a non-empty list of parts"
    for part in content:
        kind = part.get("type")
        if kind not in _PARTS and not (item["role"] == "assistant" and kind == "output_text"):
            return f"unknown content part {kind!r}"
        if kind == "input_image" and not str(part.get("image_url", "")).startswith("data:"):
            return "input_image needs an image_url (a data: URL here)"
    return None


def request_problem(path: str, headers: dict[str, str], body: dict) -> FakeResponse | None:
    """The API's answer to a request it would refuse; None when the request is well formed."""
    if path.rstrip("/") != "/v1/responses":
        return error(404, f"no route {path}", "not_found")
    if not headers.get("authorization", "").startswith("Bearer "):
        return error(401, "missing bearer key", "invalid_api_key")
    if not isinstance(body.get("model"), str):
        return error(400, "model is required")
    items = body.get("input")
    problem = (
        None
        if isinstance(items, str)
        else (
            "input: a string or a list of items"
            if not isinstance(items, list)
            else next((p for p in map(_item_problem, items) if p), None)
        )
    )
    if problem is None and not isinstance(body.get("instructions", ""), str | type(None)):
        problem = "instructions must be a string"
    fmt = (body.get("text") or {}).get("format") or {}
    if (
        problem is None
        and fmt.get("type") == "json_schema"
        and not (fmt.get("name") and fmt.get("schema"))
    ):
        problem = "text.format json_schema needs name and schema"
    limit = body.get("max_output_tokens")
    if problem is None and limit is not None and (not isinstance(limit, int) or limit < 16):
        problem = "max_output_tokens must be an integer of at least 16"
    return error(400, problem) if problem else None


class FakeResponsesServer(FakeOpenAIServer):
    """``with FakeResponsesServer(handler) as server:``; ``server.base_url`` ends in /v1."""

    def __init__(self, handler: Handler | None = None, *, replies: Iterable[Any] = ()) -> None:
        super().__init__(handler, replies=replies)

    def answer(self, path: str, headers: dict[str, str], body: dict) -> FakeResponse:
        refused = request_problem(path, headers, body)
        if refused is not None:
            return refused
        result = self._handler(body)
        if isinstance(result, dict):
            return response([text_message(json.dumps(result))])
        if isinstance(result, str):
            return response([text_message(result)])
        return result

    # ----------------------------------------------------------------- inspection helpers

    def format_names(self) -> list[str]:
        """``text.format.name`` of each request that asked for a JSON schema."""
        return [
            ((b.get("text") or {}).get("format") or {}).get("name", "")
            for b in self.requests
            if ((b.get("text") or {}).get("format") or {}).get("type") == "json_schema"
        ]

    def image_urls(self, index: int) -> list[str]:
        return [
            part["image_url"]
            for item in self.requests[index].get("input", [])
            if isinstance(item, dict) and isinstance(item.get("content"), list)
            for part in item["content"]
            if part.get("type") == "input_image"
        ]
