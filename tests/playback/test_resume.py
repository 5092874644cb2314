"""Crash safety and resume: kill -9 mid-run leaves a readable run that resume finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cradle.errors import UsageError
from cradle.llm.scripted import ScriptedModel
from cradle.playback.replay import replay_run
from cradle.playback.resume import resume_session
from cradle.trajectory.loader import load_run
from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse, completion
from tests.trajectory.helpers import ROOT, StepCountingServer, cradle_cli, demo_run, module_reply


def _truncate(run_dir: Path, keep: int) -> None:
    """Make the run look killed after ``keep`` steps, mid-write of the next one."""
    path = run_dir / "trajectory.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:keep]) + lines[keep][:100])
    info = json.loads((run_dir / "run.json").read_text())
    info.update(status="running", exit_code=None, ended_at=None, reason="")
    (run_dir / "run.json").write_text(json.dumps(info))


def test_resume_restores_the_mock_screen_and_finishes(tmp_path: Path) -> None:
    run = demo_run(tmp_path, mode="fused")
    _truncate(run.folder, keep=3)
    # What the model says after the restart: fill in the name and save, then done.
    plans = [["type_text(text='hello.txt')", "click(x=564, y=443)"], []]
    replies = [module_reply("FusedStep", n + 1, plans) for n in range(2)]
    model = ScriptedModel({"fused": replies}, name="scripted-resume")
    result = resume_session(run.folder, model=model)
    assert result.exit_code == 0 and result.status == "done", result
    again = load_run(run.folder)
    assert [s.step for s in again.steps] == [1, 2, 3, 4, 5] and not again.truncated
    assert again.info.status == "done" and again.info.totals.steps == 5
    assert again.steps[3].memory.recent_steps[-1].step == 3  # memory was preloaded
    assert again.info.settings["resumed"][0]["after_step"] == 3
    report = replay_run(again)  # restored screen == recorded screen at step 4, and on to the end
    assert report.ok, report.reason()


def test_resume_counts_the_steps_already_done(tmp_path: Path) -> None:
    run = demo_run(tmp_path, mode="fused")
    _truncate(run.folder, keep=3)
    result = resume_session(run.folder, model=ScriptedModel([]), max_steps=3)
    assert result.exit_code == 3 and result.status == "budget_exhausted"
    assert "already used" in result.reason


def test_a_resumed_run_keeps_its_total_step_budget_for_the_next_resume(tmp_path: Path) -> None:
    """run.json records the run's total budget, not what the resumed episode had left, so
    resuming again counts the steps done against the same total."""
    run = demo_run(tmp_path, mode="fused")
    _truncate(run.folder, keep=2)
    resume_session(run.folder, model=ScriptedModel([]), max_steps=4)  # ends at its model
    again = load_run(run.folder)
    assert again.info.status != "done"
    assert again.info.settings["agent"]["max_steps"] == 4


def test_a_finished_run_is_not_resumed(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    with pytest.raises(UsageError, match="already finished"):
        resume_session(run.folder, model=ScriptedModel([]))


def test_resume_refuses_a_screen_it_cannot_restore(tmp_path: Path) -> None:
    run = demo_run(tmp_path, mode="fused")
    _truncate(run.folder, keep=3)
    shots = run.folder / "screenshots"
    (shots / "step-0002.png").write_bytes((shots / "step-0004.png").read_bytes())
    # A closed local port: if the restore check failed to stop, no model is ever reached.
    result = cradle_cli(
        "run", "--resume", str(run.folder), "--base-url", "http://127.0.0.1:9/v1", cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    assert "cannot restore the screen to resume" in result.stderr
    assert json.loads((run.folder / "run.json").read_text())["status"] == "failed"


def _slow_typist(body: dict) -> FakeResponse:
    """Never done; every step types one letter; each reply takes a while."""
    reply = module_reply("FusedStep", 1, [["type_text(text='a')"], []])
    return FakeResponse(200, completion(json.dumps(reply)), delay=0.25)


def test_kill_9_mid_run_then_resume(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_BASE_URL", None)
    with FakeOpenAIServer(_slow_typist) as server:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cradle",
                "run",
                "--env",
                "mock-notepad",
                "--task",
                "type a few letters",
                "--base-url",
                server.base_url,
                "--model",
                "fake-vlm",
                "--mode",
                "fused",
                "--max-steps",
                "40",
                "--runs-dir",
                str(runs),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            trajectory = None
            while time.monotonic() < deadline:
                found = list(runs.glob("*/trajectory.jsonl")) if runs.is_dir() else []
                if found and len(found[0].read_bytes().splitlines()) >= 3:
                    trajectory = found[0]
                    break
                assert process.poll() is None, process.stderr.read().decode()
                time.sleep(0.05)
            assert trajectory is not None, "the run did not get to step 3"
            time.sleep(0.1)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
            process.stderr.close()
    run_dir = trajectory.parent
    raw = trajectory.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1].splitlines()
    assert all(json.loads(line)["step"] == n for n, line in enumerate(complete, start=1))
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "running" and info["exit_code"] is None
    done_before = len(complete)

    with FakeOpenAIServer(StepCountingServer(plans=[[]])) as server:
        result = cradle_cli(
            "run", "--resume", str(run_dir), "--base-url", server.base_url, cwd=tmp_path
        )
    assert result.returncode == 0, result.stderr
    run = load_run(run_dir)
    assert [s.step for s in run.steps] == list(range(1, done_before + 2))
    assert run.info.status == "done" and run.info.exit_code == 0
    assert run.info.totals.steps == done_before + 1
    assert not run.truncated
    assert replay_run(run).ok  # the restored screen matched at every recorded step
