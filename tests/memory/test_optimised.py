"""The optimised MiniLM copy: written once, opened as it is, the same vectors; a damaged or
unwritable cache never stops the embedder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from cradle.memory import optimised
from cradle.memory.embedders import find_minilm_files
from cradle.memory.optimised import CACHE_ENV, open_session, optimised_folder


@pytest.fixture
def model() -> Path:
    files = find_minilm_files()
    assert files is not None, "MiniLM files missing: pip install -e . brings them"
    return files.model


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The model files onnxruntime is asked to open, in order."""
    paths: list[str] = []
    real = ort.InferenceSession

    def recording(path: str, *args: Any, **kwargs: Any) -> Any:
        paths.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", recording)
    return paths


def hidden(session: Any) -> np.ndarray:
    """The model's output for a fixed batch of token ids (two texts, one padded)."""
    ids = np.array([[101, 2828, 1996, 2616, 102, 0], [101, 2330, 1996, 5371, 5926, 102]])
    mask = (ids != 0).astype(np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in {i.name for i in session.get_inputs()}:
        feeds["token_type_ids"] = np.zeros_like(ids)
    return session.run(None, feeds)[0]


def test_the_copy_is_written_once_then_opened_with_the_same_output(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[str]
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    folder = optimised_folder(model)
    assert folder is not None and folder.is_relative_to(tmp_path / "cache")
    first = hidden(open_session(model, 1))
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx", "weights.bin"]
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no building folder left
    second = hidden(open_session(model, 1))
    assert opened == [str(model), str(folder / "model.onnx")]
    assert np.array_equal(first, second)


def test_a_damaged_copy_is_rebuilt(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[str]
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    expected = hidden(open_session(model, 1))
    folder = optimised_folder(model)
    assert folder is not None
    weights = folder / "weights.bin"
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated, e.g. a full disk
    assert np.array_equal(hidden(open_session(model, 1)), expected)
    assert opened[1:] == [str(folder / "model.onnx"), str(model)]
    assert weights.stat().st_size > 1000  # written again
    assert np.array_equal(hidden(open_session(model, 1)), expected)


def test_an_unwritable_cache_only_costs_the_slower_start(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    hidden(open_session(model, 1))
    hidden(open_session(model, 1))
    assert opened == [str(model), str(model)]
    assert blocker.read_text() == "not a folder"


def test_the_cache_folder_follows_the_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert optimised.cache_dir() == tmp_path / "xdg" / "cradle"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert optimised.cache_dir() == tmp_path / "mine"
    assert optimised_folder(tmp_path / "missing.onnx") is None
