"""What the benchmarks pushed into the framework: stage timings, idle steps, cheaper recalls.

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
from cradle.agent import AgentSettings
from cradle.llm.scripted import ScriptedModel
from cradle.memory.store import VectorMemory
from cradle.session import MemorySettings, Session, SessionSettings
from cradle.trajectory.loader import load_run


def _fused(actions: list[str], done: bool = False) -> dict:
    return {
        "information_gathering": {
            "screen_description": "Notepad",
            "visible_text": [],
            "elements": [],
        },
        "self_reflection": {"last_actions_succeeded": True, "analysis": "", "failure_reason": ""},
        "task_inference": {"subtask": "wait for it", "reasoning": ""},
        "skill_curation": {"relevant_skills": [], "new_skills": []},
        "action_planning": {"reasoning": "", "actions": actions, "done": done},
    }


def _run(tmp_path: Path, replies: list[dict], **agent: object) -> tuple[ScriptedModel, list]:
    model = ScriptedModel({"fused": replies})
    settings = SessionSettings(
        env="mock-notepad",
        task="wait for the editor",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=None,
        memory=MemorySettings(enabled=False),
        stats_path=tmp_path / "stats.json",
        agent=AgentSettings(mode="fused", max_steps=8, **agent),  # type: ignore[arg-type]
    )
    result = Session(settings, model=model).run()
    return model, load_run(result.run_dir).steps


def test_each_step_records_where_its_time_went(tmp_path: Path) -> None:
    _, steps = _run(tmp_path, [_fused(["type_text(text='a')"]), _fused([], done=True)])
    first = steps[0].timings_ms
    for stage in (
        "capture",
        "digest",
        "downscale",
        "skills",
        "memory_recall",
        "decide",
        "actions",
        "total",
        "model",
    ):
        assert stage in first
    assert first["total"] >= first["decide"] >= 0
    assert "downscale" not in steps[1].timings_ms or steps[1].observation.changed


def test_an_unchanged_screen_after_a_wait_repeats_the_wait_without_the_model(
    tmp_path: Path,
) -> None:
    model, steps = _run(
        tmp_path, [_fused(["wait(seconds=0.01)"]), _fused([], done=True)], idle_skips=2
    )
    assert len(model.requests) == 2
    assert [s.model_skipped for s in steps] == [False, True, True, False]
    for idle in steps[1:3]:
        assert idle.model_calls == [] and not idle.observation.changed
        assert [a.source for a in idle.actions] == ["wait(seconds=0.01)"]
        assert [a.status for a in idle.actions] == ["ok"]
    assert steps[-1].done


def test_an_empty_plan_is_not_a_wait_and_the_model_is_asked_again(tmp_path: Path) -> None:
    model, steps = _run(tmp_path, [_fused([]), _fused([], done=True)])
    assert len(model.requests) == 2
    assert not any(s.model_skipped for s in steps)


@pytest.mark.parametrize(
    "first",
    [
        ["type_text(text='a')"],  # an action that is not a wait: its effect must be judged
        ["wait(seconds=-1)"],  # the wait failed
        ["wait(seconds=0.01)", "bogus()"],  # part of the plan was rejected
    ],
)
def test_no_idle_step_unless_the_last_step_was_a_successful_wait(
    tmp_path: Path, first: list[str]
) -> None:
    model, steps = _run(tmp_path, [_fused(first), _fused([], done=True)])
    assert len(model.requests) == 2
    assert not any(s.model_skipped for s in steps)


def test_idle_steps_can_be_turned_off(tmp_path: Path) -> None:
    model, steps = _run(
        tmp_path, [_fused(["wait(seconds=0.01)"]), _fused([], done=True)], idle_skips=0
    )
    assert len(model.requests) == 2 and len(steps) == 2


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
