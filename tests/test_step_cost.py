"""What the benchmarks pushed into the framework: cheaper recalls (stage timings and idle
steps are tested with the loop, in test_agent and test_decide).

Also the benchmark helpers whose numbers BENCHMARKS.md relies on (the image token formula),
and that ``cradle bench`` exists without ``import cradle`` loading the benchmarks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.tokens import image_tokens
from cradle.memory.store import VectorMemory


class CountingEmbedder:
    name = "counting"
    dimension = 8

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        rng = np.random.default_rng(len(self.texts))
        vectors = rng.normal(size=(len(texts), self.dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_repeated_memory_query_is_embedded_once(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    memory = VectorMemory.open(tmp_path / "memory", None, embedder=embedder)
    try:
        memory.add(["a step"], [{"kind": "step"}], ["m:1"])
        first = memory.search("task subtask", 1)
        second = memory.search("task subtask", 1)
    finally:
        memory.close()
    assert embedder.texts.count("task subtask") == 1
    assert [i.text for i in first] == [i.text for i in second] == ["a step"]


@pytest.mark.parametrize(
    ("size", "detail", "tokens"),
    [
        ((1280, 720), "auto", 1105),  # 3x2 tiles
        ((1920, 1080), "high", 1105),  # scaled to 1365x768: 3x2 tiles
        ((1024, 1024), "high", 765),  # OpenAI's example: 768x768, 4 tiles
        ((2048, 4096), "high", 1105),  # OpenAI's example: 768x1536, 6 tiles
        ((1920, 1080), "low", 85),
    ],
)
def test_image_tokens_follow_openais_formula(
    size: tuple[int, int], detail: str, tokens: int
) -> None:
    assert image_tokens(*size, detail) == tokens


def test_bench_is_a_command_and_not_loaded_with_cradle() -> None:
    code = (
        "import sys, cradle, cradle.cli.app; "
        "assert not any(m == 'benchmarks' or m.startswith('benchmarks.') "
        "for m in sys.modules), 'benchmarks imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")
    done = subprocess.run(
        [sys.executable, "-m", "cradle", "bench", "--help"], capture_output=True, text=True, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "--json" in done.stdout


def test_the_skill_benchmark_loads_and_runs_both_kinds_of_skill_file() -> None:
    """Its person-written files import what they use and the model-written ones call by
    name: both load without problems and the first skill of each runs (a failure raises)."""
    from benchmarks.skills_bench import run

    figures = run(count=3, repeat=1)
    assert figures["skills_loaded"] >= 3
    assert set(figures["call_ms"]) == {"trusted", "isolated"}
