"""Episodes: one task from a runtime, its own skills folder, a fresh start, a verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cradle.agent import AgentSettings
from cradle.episode import Episode, EpisodeSettings, run_task
from cradle.llm.scripted import ScriptedModel
from cradle.runtime import MemorySettings, Runtime, RuntimeSettings
from cradle.tasks.setup import EpisodePlace
from cradle.types import Task

FILLER = {
    "information_gathering": {"screen_description": "A notepad.", "visible_text": [],
                              "elements": []},
    "self_reflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
    "task_inference": {"subtask": "next", "reasoning": "script", "task_done": False},
}


def fused(actions: list[str], *, done: bool = False, new_skills: list[str] = ()) -> dict:
    return {**FILLER, "skill_curation": {"relevant_skills": [], "new_skills": list(new_skills)},
            "action_planning": {"reasoning": "scripted", "actions": actions, "done": done}}


def runtime_settings(tmp_path: Path, **changes: Any) -> RuntimeSettings:
    return RuntimeSettings(
        generated_skills_dir=tmp_path / "shared-skills", skill_stats=False,
        memory=MemorySettings(enabled=False),
        agent=AgentSettings(mode="fused", settle_seconds=0), **changes,
    )


def hello_task(**changes: Any) -> Task:
    fields: dict[str, Any] = {
        "id": "notepad-hello", "instruction": "Type hello", "environment": "mock-notepad",
        "check": [{"state": {"text": "hello"}}], "max_steps": 3, "timeout": 60,
    }
    return Task.model_validate({**fields, **changes})


def test_run_task_passes_a_state_check_when_the_work_is_done(tmp_path: Path) -> None:
    model = ScriptedModel({"fused": [fused(["type_text(text='hello')"]), fused([], done=True)]})
    with Runtime(runtime_settings(tmp_path), model=model) as runtime:
        result = run_task(runtime, hello_task(), runs_dir=tmp_path / "runs")
    assert result.success, result
    assert (result.id, result.environment, result.stage) == ("notepad-hello", "mock-notepad",
                                                             "done")
    assert result.status == "done" and result.steps == 2 and result.model_calls == 2
    assert result.error is None and result.seconds > 0
    assert [c.kind for c in result.checks] == ["state"] and result.checks[0].passed
    run_dir = Path(result.run_dir)
    assert json.loads((run_dir / "verdict.json").read_text())["success"] is True
    assert (run_dir / "screenshots" / "final.png").is_file()
    recorded = json.loads((run_dir / "run.json").read_text())
    assert recorded["settings"]["task_id"] == "notepad-hello"
    assert recorded["settings"]["agent"]["max_steps"] == 3
    assert recorded["settings"]["agent"]["max_seconds"] == 60


def test_run_task_fails_a_no_op_even_though_the_model_says_done(tmp_path: Path) -> None:
    model = ScriptedModel({"fused": [fused([], done=True)]})
    with Runtime(runtime_settings(tmp_path), model=model) as runtime:
        result = run_task(runtime, hello_task(), runs_dir=tmp_path / "runs")
    assert result.status == "done"  # the model's claim ...
    assert not result.success  # ... and the fact
    assert result.stage == "done" and result.error is None
    assert "text is ''" in result.checks[0].detail


def test_a_failed_setup_fails_the_task_before_any_model_call(tmp_path: Path) -> None:
    model = ScriptedModel({"fused": []})
    task = hello_task(setup=[{"file": {"path": "~/a.txt", "content": "x"}},
                             {"run": "echo broken >&2; exit 3"}])
    with Runtime(runtime_settings(tmp_path), model=model) as runtime:
        result = run_task(runtime, task, runs_dir=tmp_path / "runs")
    assert not result.success and result.stage == "setup"
    assert result.error is not None and "setup step 2 (run): exit 3: broken" in result.error
    assert result.model_calls == 0 and model.requests == []
    assert result.status == "environment_failure"
    home = Path(result.run_dir) / "place" / "home"
    assert (home / "a.txt").read_text() == "x"  # the setup ran in the episode's own home


def test_an_unknown_environment_is_a_failed_task_not_an_exception(tmp_path: Path) -> None:
    with Runtime(runtime_settings(tmp_path), model=ScriptedModel([])) as runtime:
        result = run_task(runtime, hello_task(environment="no-such-env"),
                          runs_dir=tmp_path / "runs")
    assert not result.success and result.stage == "setup"
    assert "unknown environment 'no-such-env'" in (result.error or "")
    assert not (tmp_path / "runs").exists()


def test_reset_runs_the_setup_in_the_episode_home(tmp_path: Path) -> None:
    place = EpisodePlace.create(tmp_path / "episode", display=None)
    task = hello_task(setup=[{"run": "echo ready > ~/marker.txt; echo $HOME > ~/home.txt"}],
                      check=[{"file": {"path": "~/marker.txt", "contains": "ready"}}])
    model = ScriptedModel({"fused": [fused([], done=True)]})
    with Runtime(runtime_settings(tmp_path), model=model) as runtime:
        result = run_task(runtime, task, runs_dir=tmp_path / "runs", place=place)
    assert result.success, result
    assert (place.home / "home.txt").read_text().strip() == str(place.home)
    assert not (Path.home() / "marker.txt").exists() or Path.home() == place.home


def test_two_episodes_run_one_after_another_from_one_runtime(tmp_path: Path) -> None:
    model = ScriptedModel({"fused": [fused(["type_text(text='hello')"]), fused([], done=True),
                                     fused([], done=True)]})
    with Runtime(runtime_settings(tmp_path), model=model) as runtime:
        first = run_task(runtime, hello_task(), runs_dir=tmp_path / "runs")
        second = run_task(runtime, hello_task(), runs_dir=tmp_path / "runs")
        assert not runtime.closed
    assert runtime.closed
    assert first.success and not second.success  # the second started fresh: no 'hello'
    assert first.run_dir != second.run_dir


def test_an_episode_keeps_its_environment_until_closed(tmp_path: Path) -> None:
    settings = EpisodeSettings(env="mock-notepad", task="t", runs_dir=tmp_path / "runs",
                               **runtime_settings(tmp_path).model_dump())
    model = ScriptedModel({"fused": [fused(["type_text(text='kept')"], done=True)]})
    with Runtime(settings, model=model) as runtime:
        episode = Episode(runtime, settings)
        result = episode.loop(episode.create_recorder())
        assert result.status == "done"
        assert episode.environment.state()["text"] == "kept"
        assert episode.final_screen() is not None
        episode.close()
        assert not runtime.closed  # the episode does not own this runtime


@pytest.mark.parametrize("limit", [2, 30])
def test_the_task_bounds_steps_and_wall_time(tmp_path: Path, limit: int) -> None:
    base = runtime_settings(tmp_path).model_copy(
        update={"agent": AgentSettings(max_steps=50, max_seconds=limit)})
    settings = EpisodeSettings.for_task(base, hello_task(), tmp_path)
    assert settings.agent.max_steps == 3
    assert settings.agent.max_seconds == min(limit, 60)
    assert (settings.env, settings.task, settings.task_id) == ("mock-notepad", "Type hello",
                                                               "notepad-hello")
