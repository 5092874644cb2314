"""A loopback HTTP proxy that records what a client sent a model server and what came back.

``benchmarks.real_server`` runs cradle through it against llama-cpp-python's server, so each
request body is kept with the status it got and the seconds it took; ``post`` is the one
JSON POST both use.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def post(url: str, body: dict, timeout: float) -> tuple[int, dict]:
    """POST ``body`` as JSON; the status and the JSON reply (``{"_raw": text}`` if not JSON)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, {"_raw": raw.decode("utf-8", "replace")[:2000]}


@dataclass
class Exchange:
    """One request the proxy passed on: its body, the status and seconds it took."""

    body: dict
    status: int
    seconds: float


@dataclass
class RecordingProxy:
    """A loopback HTTP proxy that forwards POSTs to ``upstream`` and keeps each exchange."""

    upstream: str
    timeout: float = 900.0
    exchanges: list[Exchange] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> RecordingProxy:
        outer = self

        class Forward(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                started = time.monotonic()
                path = self.path.removeprefix("/v1")
                try:
                    status, reply = post(outer.upstream + path, body, outer.timeout)
                except OSError as exc:  # the server died or did not answer in time
                    status, reply = 502, {"error": {"message": f"proxy: {exc}"}}
                outer.exchanges.append(Exchange(body, status, time.monotonic() - started))
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def format_kind(body: dict) -> str:
    """json_schema, json_object_schema, json_object or prompt: what a request asked for."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_object" and "schema" in fmt:
        return "json_object_schema"
    return fmt.get("type") or "prompt"
