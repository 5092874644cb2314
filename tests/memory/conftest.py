"""Memory test set-up: each store test runs on a fresh store of either backend.

The store tests run twice, once on an embedded folder and once through ``HttpClient`` on the
session's `chroma run` server (tests/conftest.py), so both client paths are held to the same
behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cradle.memory.embedders import MiniLMEmbedder
from cradle.memory.store import VectorMemory, open_memory


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
