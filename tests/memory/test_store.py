"""VectorMemory on real chromadb, embedded and through a `chroma run` server."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from cradle.errors import (
    EXIT_ENVIRONMENT,
    MemoryStoreError,
    MemoryUnavailableError,
    UsageError,
)
from cradle.memory.budget import fit_to_budget
from cradle.memory.chroma import MEMORIES
from cradle.memory.embedders import HashingEmbedder, MiniLMEmbedder
from cradle.memory.store import VectorMemory, open_memory
from cradle.processes import free_port
from cradle.types import MemoryItem
from tests.memory.helpers import make_record

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TASK = "write a shopping list in the text editor and save it as list.txt"


def _fill(store: VectorMemory) -> None:
    store.remember_step(
        TASK,
        make_record("run-a", 1, "open the File menu", [("click(x=10, y=5)", "ok", "")]),
    )
    store.remember_step(
        TASK,
        make_record(
            "run-a",
            2,
            "save the file as list.txt",
            [
                ("hotkey('ctrl', 's')", "ok", ""),
                ("type_text(text='list.txt')", "failed", "no dialog"),
            ],
            reflection=(False, "the save dialog never opened", "ctrl+s was sent too early"),
        ),
    )
    store.remember_run(TASK, "run-a", "the list was typed but saving failed", success=False)
    store.remember_step(
        "calculate 12 times 7 in the calculator",
        make_record("run-b", 1, "press the digits", [("click(x=50, y=80)", "ok", "")]),
    )


def test_add_recall_with_metadata(store: VectorMemory) -> None:
    _fill(store)
    items = store.recall("how do I save the text file under a name", k=3)
    assert items and all(isinstance(item, MemoryItem) for item in items)
    assert items[0].metadata["run_id"] == "run-a"
    assert items == sorted(items, key=lambda item: -item.score)
    assert all(-1.0 <= item.score <= 1.0 for item in items)
    step = next(
        item
        for item in store.search("save list.txt", 10)
        if item.kind == "step" and item.metadata["step"] == 2
    )
    meta = step.metadata
    assert meta["environment"] == "notepad"
    assert meta["task"] == TASK
    assert meta["success"] is False  # one action failed
    assert meta["time"].startswith("20")
    assert "type_text(text='list.txt') -> failed (no dialog)" in step.text
    assert "Subtask: save the file as list.txt" in step.text
    first = next(
        item
        for item in store.search("open the File menu", 10)
        if item.metadata.get("step") == 1 and item.metadata["run_id"] == "run-a"
    )
    assert first.metadata["success"] is True


def test_lesson_names_the_failed_subtask(store: VectorMemory) -> None:
    store.remember_step(
        TASK,
        make_record("run-l", 1, "save the file as list.txt", [("hotkey('ctrl', 's')", "ok", "")]),
    )
    store.remember_step(
        TASK,
        make_record(
            "run-l",
            2,
            "type the file name",
            [],
            reflection=(False, "no dialog", "the editor needs ctrl+shift+s"),
        ),
    )
    lessons = store.search("saving a file", 5, kinds=["lesson"])
    assert [item.text for item in lessons] == [
        "When save the file as list.txt: the editor needs ctrl+shift+s"
    ]
    assert lessons[0].kind == "lesson"


def test_filters_by_kind_and_environment(
    store: VectorMemory, embedder: MiniLMEmbedder, backend: dict[str, object]
) -> None:
    _fill(store)
    runs = store.search("shopping list", 5, kinds=["run"])
    assert [item.kind for item in runs] == ["run"]
    assert "saving failed" in runs[0].text
    with open_memory(
        backend["memory_dir"],
        backend["memory_url"],  # type: ignore[arg-type]
        environment="calculator",
        embedder=embedder,
    ) as other:
        other.remember_step("add numbers", make_record("run-c", 1, "press plus", []))
    found = store.search("press plus", 10, environment="calculator")
    assert {item.metadata["run_id"] for item in found} == {"run-c"}
    assert store.search("anything", 0) == []


def test_readding_a_step_does_not_duplicate(store: VectorMemory) -> None:
    record = make_record("run-r", 3, "scroll down", [("scroll(-3)", "ok", "")])
    store.remember_step(TASK, record)
    store.remember_step(TASK, record)  # a resumed run records the same step again
    store.remember_run(TASK, "run-r", "done", success=True)
    store.remember_run(TASK, "run-r", "done, again", success=True)
    stats = store.stats()
    assert stats["by_kind"] == {"run": 1, "step": 1}
    assert "again" in store.search("done", 5, kinds=["run"])[0].text


def test_forget_run_and_wipe(store: VectorMemory) -> None:
    _fill(store)
    store.skills.sync({"click": "Click at a point on the screen"})
    before = store.stats()
    assert before["runs"] == 2 and before["skills"] == 1
    assert before["embedder"] == MiniLMEmbedder.name and before["dimension"] == 384
    assert store.forget_run("run-a") == 4  # two steps, one lesson, one run summary
    assert store.forget_run("run-a") == 0
    assert {item.metadata["run_id"] for item in store.search("save", 10)} == {"run-b"}
    assert store.wipe() == 2
    assert store.stats()["memories"] == 0
    assert store.search("save", 5) == []  # the collection is made again on demand


def test_chunked_adds(store: VectorMemory) -> None:
    store.chroma._max_chunk = 7  # force several chunks for both the embedding and the upsert
    texts = [f"memory number {i} about window {i % 5}" for i in range(23)]
    store.add(
        texts,
        [{"kind": "step", "run_id": "bulk", "step": i} for i in range(23)],
        [f"bulk:{i}" for i in range(23)],
    )
    assert store.stats()["memories"] == 23
    vectors = np.random.default_rng(0).normal(size=(9, 384)).astype(np.float32)
    store.add(
        [f"v{i}" for i in range(9)],
        [{"kind": "step"}] * 9,
        [f"v:{i}" for i in range(9)],
        embeddings=vectors,
    )
    assert store.stats()["memories"] == 32
    assert store.forget_run("bulk") == 23


def test_other_embedder_is_refused(store: VectorMemory, backend: dict[str, object]) -> None:
    _fill(store)
    with pytest.warns(UserWarning, match="hashing"):
        hashing = HashingEmbedder()
    with pytest.raises(MemoryStoreError, match="built with the all-MiniLM-L6-v2-qint8 embedder"):
        open_memory(
            backend["memory_dir"],
            backend["memory_url"],  # type: ignore[arg-type]
            embedder=hashing,
        )
    # Bookkeeping without an embedder still works on the same store.
    with VectorMemory.open(
        backend["memory_dir"],
        backend["memory_url"],  # type: ignore[arg-type]
        embedder=None,
        create=False,
    ) as bare:
        assert bare.stats()["memories"] == 5
        with pytest.raises(UsageError, match="without an embedder"):
            bare.search("anything", 1)


def test_chroma_default_embedder_is_never_called(
    store: VectorMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chromadb.utils import embedding_functions

    def refuse(self: object, input: object) -> object:
        raise AssertionError("chromadb's downloading default embedder was called")

    monkeypatch.setattr(embedding_functions.DefaultEmbeddingFunction, "__call__", refuse)
    _fill(store)
    assert store.recall("save the list", k=2)
    assert store.skills.sync({"click": "Click somewhere"}).added == 1
    assert store.skills.rank("press the mouse button", 1) == ["click"]


def test_skill_index_sync_is_cheap_and_ranks(
    store: VectorMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    skills = {
        "save_as": "Save As: store the current file with a different file name",
        "volume_mute": "Mute the system sound",
        "new_tab": "Open a new browser tab",
    }
    index = store.skills
    assert index.sync(skills).added == 3
    embedded: list[list[str]] = []
    original = store.embedder.embed  # type: ignore[union-attr]

    def counting(texts: list[str]) -> np.ndarray:
        embedded.append(list(texts))
        return original(texts)

    monkeypatch.setattr(store.embedder, "embed", counting)
    result = index.sync(skills)
    assert (result.added, result.updated, result.removed, result.unchanged) == (0, 0, 0, 3)
    assert embedded == []  # nothing changed: nothing embedded
    changed = dict(skills, volume_mute="Silence all audio output", zoom="Zoom in")
    del changed["new_tab"]
    result = index.sync(changed)
    assert (result.added, result.updated, result.removed, result.unchanged) == (1, 1, 1, 1)
    assert sorted(embedded[0]) == ["Silence all audio output", "Zoom in"]
    assert index.rank("save the document under a new name", 1) == ["save_as"]
    assert index.rank("turn off the speakers", 1) == ["volume_mute"]
    assert len(index.rank("anything", 10)) == 3


def test_unreachable_server_is_one_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MemoryUnavailableError) as caught:
        VectorMemory.open(None, url, embedder=None)
    assert str(caught.value) == f"cannot reach the memory server at {url}: is `chroma run` running?"
    assert caught.value.exit_code == EXIT_ENVIRONMENT


def test_server_gone_mid_run_is_unavailable(chroma_server: str, embedder: MiniLMEmbedder) -> None:
    import httpx

    def boom(*args: object, **kwargs: object) -> object:
        raise httpx.ConnectError("connection refused")

    with open_memory(None, chroma_server, embedder=embedder) as store:
        collection = store.chroma.collection(MEMORIES)
        assert collection is not None
        collection.query = boom  # type: ignore[method-assign]
        with pytest.raises(MemoryUnavailableError, match="cannot reach the memory server"):
            store.recall("anything", k=1)


def test_foreign_folder_is_refused_and_untouched(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(MemoryStoreError, match="is not a memory store"):
        open_memory(folder, None, embedder=embedder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    with pytest.raises(MemoryStoreError, match="is a file"):
        open_memory(folder / "notes.txt", None, embedder=embedder)


def test_corrupt_store_is_refused_and_untouched(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    folder = tmp_path / "memory"
    folder.mkdir()
    garbage = b"this is not sqlite at all" * 100
    (folder / "chroma.sqlite3").write_bytes(garbage)
    with pytest.raises(MemoryStoreError, match="not an SQLite database"):
        open_memory(folder, None, embedder=embedder)
    assert (folder / "chroma.sqlite3").read_bytes() == garbage
    assert [p.name for p in folder.iterdir()] == ["chroma.sqlite3"]


def test_damaged_sqlite_is_refused_and_untouched(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    folder = tmp_path / "memory"
    with open_memory(folder, None, embedder=embedder) as memory:
        memory.remember_run("task", "run-x", "ok", success=True)
    sqlite = folder / "chroma.sqlite3"
    damaged = sqlite.read_bytes()[:8192] + bytes(100)  # valid header, missing pages
    sqlite.write_bytes(damaged)
    with pytest.raises(MemoryStoreError, match="cannot be opened.*nothing was changed"):
        open_memory(folder, None, embedder=embedder)
    assert sqlite.read_bytes() == damaged


def test_missing_folder_is_created_only_when_asked(tmp_path: Path) -> None:
    with pytest.raises(MemoryStoreError, match="no memory store at"):
        VectorMemory.open(tmp_path / "nope", None, embedder=None, create=False)
    assert not (tmp_path / "nope").exists()


WRITER = """
import sys
from pathlib import Path
from cradle.memory import open_memory
from tests.memory.helpers import make_record
memory = open_memory(Path(sys.argv[1]), None, environment="notepad")
memory.remember_step("save the list", make_record("run-p", 1, "press ctrl+s",
                     [("hotkey('ctrl', 's')", "ok", "")]))
memory.remember_run("save the list", "run-p", "saved", success=True)
"""

READER = """
import json, sys
from pathlib import Path
from cradle.memory import open_memory
memory = open_memory(Path(sys.argv[1]), None, create=False)
items = memory.recall("keyboard shortcut to store the file", k=2)
print(json.dumps({"stats": memory.stats(), "texts": [item.text for item in items],
                  "embedder": memory.embedder.name}))
"""


def test_persists_across_processes(tmp_path: Path) -> None:
    folder = tmp_path / "memory"
    root = Path(__file__).resolve().parents[2]

    def run(script: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script), str(folder)],
            capture_output=True,
            text=True,
            cwd=root,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run(WRITER)
    result = json.loads(run(READER).strip().splitlines()[-1])
    assert result["embedder"] == MiniLMEmbedder.name
    assert result["stats"]["by_kind"] == {"run": 1, "step": 1}
    assert any("hotkey('ctrl', 's') -> ok" in text for text in result["texts"])


def test_fit_to_budget_keeps_best_items_that_fit() -> None:
    items = [MemoryItem(text="a" * 400), MemoryItem(text="b" * 2000), MemoryItem(text="c" * 40)]
    assert [item.text[0] for item in fit_to_budget(items, 120)] == ["a", "c"]
    assert fit_to_budget(items, 5) == []
    assert len(fit_to_budget(items, 10_000)) == 3
