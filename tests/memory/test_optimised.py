"""The optimised MiniLM copies: written once, opened as they are, float32 giving the same
vectors and int8 close ones; a damaged or unwritable cache never stops the embedder."""

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


def packaged(model: Path) -> np.ndarray:
    """The packaged model's output, opened as onnxruntime opens any model."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return hidden(ort.InferenceSession(str(model), sess_options=options))


def test_the_copies_are_written_once_then_opened_as_they_are(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[str]
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    folder = optimised_folder(model)
    assert folder is not None and folder.is_relative_to(tmp_path / "cache")
    first = hidden(open_session(model, 1))
    assert sorted(p.name for p in folder.iterdir()) == [
        "int8-weights.bin",
        "int8.onnx",
        "model.onnx",
        "weights.bin",
    ]
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no building folder left
    built = len(opened)
    assert opened[0] == str(model) and all(
        Path(p).parent.name.startswith(f".{folder.name}.") for p in opened[1:]
    )
    second = hidden(open_session(model, 1))
    as_float32 = hidden(open_session(model, 1, int8=False))
    assert opened[built:] == [str(folder / "int8.onnx"), str(folder / "model.onnx")]
    assert np.array_equal(first, second)
    assert np.allclose(as_float32, packaged(model), atol=1e-4)  # float32: the same vectors
    assert not np.allclose(first, as_float32, atol=1e-3)  # int8: close, not the same
    assert cosine(first, as_float32) > 0.9


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The mean cosine between the two outputs' token vectors (the sentence vectors of the
    paraphrase texts measured ~0.96)."""
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    return float(np.mean((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)))


def test_a_damaged_copy_is_rebuilt(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[str]
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    expected = hidden(open_session(model, 1, int8=False))
    folder = optimised_folder(model)
    assert folder is not None
    weights = folder / "weights.bin"
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated, e.g. a full disk
    built = len(opened)
    assert np.array_equal(hidden(open_session(model, 1, int8=False)), expected)
    assert opened[built : built + 2] == [str(folder / "model.onnx"), str(model)]
    assert weights.stat().st_size > 1000  # written again
    assert np.array_equal(hidden(open_session(model, 1, int8=False)), expected)
    int8_weights = folder / "int8-weights.bin"
    int8_weights.write_bytes(int8_weights.read_bytes()[:1000])
    int8 = hidden(open_session(model, 1))
    assert int8_weights.stat().st_size > 1000
    assert np.array_equal(hidden(open_session(model, 1)), int8)


def test_an_unwritable_cache_only_costs_the_slower_start(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    first = hidden(open_session(model, 1))
    built = len(opened)
    assert np.array_equal(hidden(open_session(model, 1)), first)
    assert opened[0] == opened[built] == str(model)  # built again: nowhere to keep it
    assert all(Path(p).name != "a-file" and "cradle-minilm-" in p for p in opened[1:built])
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


def test_a_full_disk_while_building_falls_back_to_a_temporary_folder(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache folder can be made but not filled (a full disk): the copies are made in a
    temporary folder instead, the half-built cache folder is removed, nothing is published."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    real_build = optimised._build
    built_in: list[Path] = []

    def full_disk_in_cache(source: Path, folder: Path) -> None:
        built_in.append(folder)
        if str(folder).startswith(str(tmp_path)):
            raise OSError(28, "No space left on device")
        real_build(source, folder)

    monkeypatch.setattr(optimised, "_build", full_disk_in_cache)
    session = open_session(model, 1)
    assert hidden(session).shape[0] == 2
    assert len(built_in) == 2 and "cradle-minilm-" in built_in[1].name
    cache = optimised_folder(model)
    assert cache is not None and not cache.exists()
    assert not [p for p in cache.parent.iterdir() if p.name.startswith(".")]


def test_when_no_folder_can_hold_the_copies_the_memory_is_unavailable_in_one_line(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cradle.errors import MemoryUnavailableError

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))

    def full_disk(source: Path, folder: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(optimised, "_build", full_disk)
    with pytest.raises(MemoryUnavailableError) as raised:
        open_session(model, 1)
    message = str(raised.value)
    assert "\n" not in message and "No space left on device" in message
    assert CACHE_ENV in message
