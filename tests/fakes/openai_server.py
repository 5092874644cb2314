"""A local OpenAI-compatible chat completions server for tests.

It runs the real ``openai`` client end to end over HTTP on 127.0.0.1. Each request is recorded
(parsed JSON body) and answered by a handler: the default handler pops scripted replies; tests
can pass their own to return faults (status codes, garbage, hangs) or react to the request.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeResponse:
    """What the server sends back: a status, a body, optional headers, an optional delay."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] | None = None
    delay: float = 0.0
    drop: bool = False


def completion(content: str, *, prompt_tokens: int = 100, completion_tokens: int = 20) -> dict:
    """A chat completion body with ``content`` as the assistant message."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


Handler = Callable[[dict], FakeResponse | str | dict]


class FakeOpenAIServer:
    """Start with ``with FakeOpenAIServer(handler) as server:``; ``server.base_url`` is /v1."""

    def __init__(self, handler: Handler | None = None, *, replies: Iterable[Any] = ()) -> None:
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._replies: deque[Any] = deque(replies)
        self._handler = handler or self._scripted
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _scripted(self, body: dict) -> FakeResponse | str | dict:
        if not self._replies:
            return FakeResponse(500, {"error": {"message": "fake server: script exhausted"}})
        return self._replies.popleft()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        outer = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append(body)
                outer.paths.append(self.path)
                outer.headers.append(headers)
                result = outer.answer(self.path, headers, body)
                if result.delay:
                    time.sleep(result.delay)
                if result.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                payload = (
                    result.body if isinstance(result.body, bytes | str) else json.dumps(result.body)
                )
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(result.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (result.headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, headers: dict[str, str], body: dict) -> FakeResponse:
        """The handler's result as a response: a string or dict becomes a chat completion.
        Fakes of other APIs override this (their paths, headers and reply shapes)."""
        result = self._handler(body)
        if isinstance(result, str):
            return FakeResponse(200, completion(result))
        if isinstance(result, dict):
            return FakeResponse(200, completion(json.dumps(result)))
        return result

    # ----------------------------------------------------------------- inspection helpers

    def schema_names(self) -> list[str]:
        """``json_schema.name`` of each request that asked for structured output."""
        names = []
        for body in self.requests:
            fmt = body.get("response_format") or {}
            if fmt.get("type") == "json_schema":
                names.append(fmt["json_schema"]["name"])
        return names

    def image_urls(self, index: int) -> list[str]:
        """Data URLs of the images in request ``index``."""
        urls = []
        for message in self.requests[index].get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                for part in content:
                    if part.get("type") == "image_url":
                        urls.append(part["image_url"]["url"])
        return urls
