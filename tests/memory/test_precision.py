"""The MiniLM precision a store is opened with: the one it was built with, unless the user says.

Stores written before int8 became the default recorded the float32 MiniLM; an upgrade must
keep reading them without a setting, while an explicit setting that does not fit still gets
the one-line error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cradle.errors import MemoryStoreError
from cradle.memory.chroma import SKILLS, ChromaCollections
from cradle.memory.embedders import (
    MINILM_FLOAT32_NAME,
    MINILM_NAME,
    PRECISION_ENV,
    MiniLMEmbedder,
)
from cradle.memory.store import VectorMemory, open_memory
from cradle.runtime import MemorySettings, open_long_term

REPORTS = [
    ("run-1", "saved the quarterly report as a PDF from the print dialog", True),
    ("run-2", "renamed the holiday photos folder in the file manager", True),
    ("run-3", "muted the notifications in the system settings", False),
]


def _where(backend: dict[str, object]) -> tuple[Path | None, str | None]:
    return backend["memory_dir"], backend["memory_url"]  # type: ignore[return-value]


def _write_float32_store(backend: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PRECISION_ENV, "float32")
    with open_memory(*_where(backend), environment="notepad") as memory:
        assert memory.embedder is not None and memory.embedder.name == MINILM_FLOAT32_NAME
        for run_id, summary, success in REPORTS:
            memory.remember_run("office chores", run_id, summary, success)
        memory.skills.sync({"export_pdf": "export the open document as a PDF file"})
    monkeypatch.delenv(PRECISION_ENV)


def test_a_float32_store_opens_as_it_was_built_without_a_setting(
    backend: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_float32_store(backend, monkeypatch)
    notes: list[str] = []
    with open_memory(*_where(backend), environment="notepad", on_note=notes.append) as memory:
        assert memory.embedder is not None and memory.embedder.name == MINILM_FLOAT32_NAME
        found = memory.recall("export the report to PDF", k=3)
        assert memory.skills.rank("print the document to a PDF", k=1) == ["export_pdf"]
        assert memory.stats()["embedder"] == MINILM_FLOAT32_NAME
    assert found and "quarterly report as a PDF" in found[0].text
    assert len(notes) == 1 and "float32" in notes[0] and "\n" not in notes[0]


def test_an_explicit_precision_that_does_not_fit_the_store_is_refused_in_one_line(
    backend: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_float32_store(backend, monkeypatch)
    monkeypatch.setenv(PRECISION_ENV, "int8")
    with pytest.raises(MemoryStoreError) as refused:
        open_memory(*_where(backend))
    message = str(refused.value)
    assert "\n" not in message and f"built with the {MINILM_FLOAT32_NAME} embedder" in message
    assert f"set {PRECISION_ENV}=float32 to use it" in message


def test_a_new_store_is_built_with_int8_and_says_nothing(
    backend: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    notes: list[str] = []
    with open_memory(*_where(backend), on_note=notes.append) as memory:
        memory.remember_run("office chores", "run-1", "saved the report", True)
        assert memory.stats()["embedder"] == MINILM_NAME
    assert notes == []
    with open_memory(*_where(backend), on_note=notes.append) as memory:
        assert memory.embedder is not None and memory.embedder.name == MINILM_NAME
    assert notes == []


def test_collections_of_two_precisions_in_one_store_are_refused(
    tmp_path: Path, embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    folder = tmp_path / "memory"
    with open_memory(folder, None, embedder=MiniLMEmbedder(int8=False)):
        pass
    with VectorMemory.open(folder, None, embedder=None) as memory:
        ChromaCollections(memory.chroma.client, embedder=embedder).collection(SKILLS)
    with pytest.raises(MemoryStoreError) as refused:
        open_memory(folder, None)
    message = str(refused.value)
    assert "\n" not in message and "built by two embedders" in message
    assert MINILM_NAME in message and MINILM_FLOAT32_NAME in message


def test_a_run_is_told_its_store_is_read_in_float32(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend: dict[str, object] = {"memory_dir": tmp_path / "memory", "memory_url": None}
    _write_float32_store(backend, monkeypatch)
    store, note = open_long_term(MemorySettings(memory_dir=tmp_path / "memory"), "notepad")
    try:
        assert store.embedder.name == MINILM_FLOAT32_NAME
        assert "float32" in note and "\n" not in note
    finally:
        store.close()
