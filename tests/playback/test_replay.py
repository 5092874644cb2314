"""Replay without a model: same actions, same screens, a loud stop when the screen diverges."""

from __future__ import annotations

import json
from pathlib import Path

from cradle.environment import load_environment
from cradle.playback.replay import Replayer, ReplayOptions, load_actions, replay_run
from tests.trajectory.helpers import cradle_cli, demo_run


def test_replay_reaches_the_recorded_state(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    environment = load_environment("mock-notepad")
    screen = environment.start()
    replayer = Replayer(run, screen, load_actions(run, screen, environment))
    report = replayer.replay()
    assert report.ok, report.reason()
    assert report.actions_replayed == 5 and report.steps_checked == 5
    assert all(diff == 0.0 for _, diff in report.differences)
    state = environment.state()
    assert state["files"]["hello.txt"].startswith("Hello from cradle!")
    assert state["title"] == "hello.txt - Notepad"


def test_replay_until_a_step(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    environment = load_environment("mock-notepad")
    screen = environment.start()
    report = Replayer(run, screen, load_actions(run, screen, environment)).replay(until_step=2)
    assert report.ok and report.actions_replayed == 2
    assert environment.state()["menu"] == "File"


def test_divergence_stops_with_both_images(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    report = replay_run(run, env_options={"text": "someone else's text\n" * 8})
    assert not report.ok and report.exit_code == 1
    divergence = report.divergence
    assert divergence is not None and divergence.step == 1
    assert divergence.difference > divergence.threshold
    assert Path(divergence.live).is_file() and Path(divergence.recorded).is_file()
    assert Path(divergence.live).parent.name.startswith("replay-")
    summary = json.loads((Path(report.output_dir) / "replay.json").read_text())
    assert summary["ok"] is False and "diverged before step 1" in summary["reason"]
    assert report.actions_replayed == 0  # nothing was clicked on the wrong screen


def test_a_failing_recorded_action_stops_the_replay(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    run.steps[1].actions[0].source = "click(x=5000, y=64)"  # now outside the screen
    report = replay_run(run, options=ReplayOptions(check=False))
    assert not report.ok and "step 2" in report.failure and "failed" in report.failure


def test_cli_replay_exit_codes(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    ok = cradle_cli("replay", str(run.folder), "--timeout", "2", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "matched the recording at every step" in ok.stderr
    # Hand the replay a screen that is not the recorded one: step 3's screenshot at step 1.
    shots = run.folder / "screenshots"
    (shots / "step-0001.png").write_bytes((shots / "step-0003.png").read_bytes())
    bad = cradle_cli("replay", str(run.folder), "--threshold", "0.01", cwd=tmp_path)
    assert bad.returncode == 1, bad.stderr
    assert "diverged before step 1" in bad.stderr and "Traceback" not in bad.stderr
    assert "threshold 0.01" in bad.stderr


def test_cli_replay_of_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = cradle_cli("replay", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "is not a run folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


GREETING_SKILL = '''# ruff: noqa: F821 - skills call other skills by plain name
"""Type a greeting."""

from cradle.skills import skill


@skill
def type_greeting(screen, text: str) -> None:
    """Type the greeting into the editor.

    Args:
        text: The greeting.
    """
    type_text(text=text)
'''


def test_replay_finds_the_shared_generated_skills_the_run_was_given(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    shared = tmp_path / "shared-skills"
    shared.mkdir()
    (shared / "type_greeting.py").write_text(GREETING_SKILL)
    run.info.settings["generated_skills_dir"] = str(shared)
    action = run.steps[0].actions[0]
    action.source = action.source.replace("type_text(", "type_greeting(", 1)
    environment = load_environment("mock-notepad")
    screen = environment.start()
    report = Replayer(run, screen, load_actions(run, screen, environment)).replay()
    assert report.ok, report.reason()
    assert environment.state()["files"]["hello.txt"].startswith("Hello from cradle!")
