"""A task run as one episode and judged: the checker's verdict, not the model's word; a failed
setup or unknown environment is a failed task; skills are promoted only when it passed."""

from __future__ import annotations

import json
from pathlib import Path

from cradle.llm.scripted import ScriptedModel
from cradle.runtime import Runtime
from cradle.task_episode import run_task
from cradle.tasks.setup import EpisodePlace
from tests.test_episode import NEW_SKILL, fused, hello_task, runtime_settings


def test_run_task_passes_a_state_check_when_the_work_is_done(tmp_path: Path) -> None:
    model = ScriptedModel({"fused": [fused(["type_text(text='hello')"]), fused([], done=True)]})
    with Runtime(runtime_settings(tmp_path), model=model) as runtime:
        result = run_task(runtime, hello_task(), runs_dir=tmp_path / "runs")
    assert result.success, result
    assert (result.id, result.environment, result.stage) == (
        "notepad-hello",
        "mock-notepad",
        "done",
    )
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
    task = hello_task(
        setup=[{"file": {"path": "~/a.txt", "content": "x"}}, {"run": "echo broken >&2; exit 3"}]
    )
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
        result = run_task(
            runtime, hello_task(environment="no-such-env"), runs_dir=tmp_path / "runs"
        )
    assert not result.success and result.stage == "setup"
    assert "unknown environment 'no-such-env'" in (result.error or "")
    assert not (tmp_path / "runs").exists()


def test_run_task_uses_the_place_it_is_given(tmp_path: Path) -> None:
    place = EpisodePlace.create(tmp_path / "episode", display=None)
    task = hello_task(
        setup=[{"run": "echo ready > ~/marker.txt"}],
        check=[{"file": {"path": "~/marker.txt", "contains": "ready"}}],
    )
    model = ScriptedModel({"fused": [fused([], done=True)]})
    with Runtime(runtime_settings(tmp_path), model=model) as runtime:
        result = run_task(runtime, task, runs_dir=tmp_path / "runs", place=place)
    assert result.success, result
    assert not (Path(result.run_dir) / "place").exists()


def test_two_episodes_run_one_after_another_from_one_runtime(tmp_path: Path) -> None:
    model = ScriptedModel(
        {"fused": [fused(["type_text(text='hello')"]), fused([], done=True), fused([], done=True)]}
    )
    with Runtime(runtime_settings(tmp_path), model=model) as runtime:
        first = run_task(runtime, hello_task(), runs_dir=tmp_path / "runs")
        second = run_task(runtime, hello_task(), runs_dir=tmp_path / "runs")
        assert not runtime.closed
    assert runtime.closed
    assert first.success and not second.success  # the second started fresh: no 'hello'
    assert first.run_dir != second.run_dir


def test_a_failed_task_does_not_promote_its_skills(tmp_path: Path) -> None:
    model = ScriptedModel({"fused": [fused([], new_skills=[NEW_SKILL], done=True)]})
    with Runtime(runtime_settings(tmp_path), model=model) as runtime:
        result = run_task(runtime, hello_task(), runs_dir=tmp_path / "runs")
    assert not result.success
    assert (Path(result.run_dir) / "generated_skills" / "write_signature.py").is_file()
    assert not (tmp_path / "shared-skills" / "write_signature.py").exists()
