"""A recorded run as a regression test: rerun the loop answered by the recorded replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cradle.agent import AgentSettings
from cradle.playback.resume import rerun_with_model_replies
from cradle.session import ModelSettings, Session, SessionSettings
from cradle.trajectory.loader import load_run
from tests.fakes.openai_server import FakeOpenAIServer
from tests.trajectory.helpers import StepCountingServer, cradle_cli


def _record(tmp_path: Path, mode: str) -> tuple[Path, dict]:
    settings = SessionSettings(
        env="mock-notepad",
        task="Type a note and save it as notes.txt",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=None,
        agent=AgentSettings(mode=mode, max_steps=8),
    )
    with FakeOpenAIServer(StepCountingServer()) as server:
        settings.model = ModelSettings(model="fake-vlm", base_url=server.base_url)
        session = Session(settings)
        result = session.run()
    assert result.exit_code == 0, result
    return Path(result.run_dir), session.environment.state()


def _actions(run_dir: Path) -> list[list[tuple[str, str]]]:
    return [[(a.source, a.status) for a in s.actions] for s in load_run(run_dir).steps]


@pytest.mark.parametrize("mode", ["modular", "fused"])
def test_rerun_with_recorded_replies_reaches_the_same_state(tmp_path: Path, mode: str) -> None:
    recorded_dir, recorded_state = _record(tmp_path, mode)
    assert recorded_state["files"] == {"notes.txt": "Notes from the fake model"}

    result, session = rerun_with_model_replies(recorded_dir)  # no server is running now
    assert result.exit_code == 0 and result.status == "done"
    new_dir = Path(result.run_dir)
    assert new_dir != recorded_dir and new_dir.parent == recorded_dir.parent
    assert session.environment.state() == recorded_state
    assert _actions(new_dir) == _actions(recorded_dir)
    info = json.loads((new_dir / "run.json").read_text())
    assert info["model"] == "replayed:fake-vlm"
    assert session.model.remaining() == 0 and session.model.prompt_changes == []


def test_cli_model_replies_makes_a_new_run(tmp_path: Path) -> None:
    recorded_dir, _ = _record(tmp_path, "fused")
    out = tmp_path / "replays"
    result = cradle_cli(
        "replay", str(recorded_dir), "--model-replies", "--runs-dir", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    [new_dir] = list(out.iterdir())
    assert _actions(new_dir) == _actions(recorded_dir)


def test_diverging_loop_fails_loudly(tmp_path: Path) -> None:
    recorded_dir, _ = _record(tmp_path, "fused")
    info = json.loads((recorded_dir / "run.json").read_text())
    info["settings"]["agent"]["mode"] = "modular"  # the loop now asks other modules
    (recorded_dir / "run.json").write_text(json.dumps(info))
    result, _ = rerun_with_model_replies(recorded_dir)
    assert result.exit_code == 4 and result.status == "model_failure"
    assert "replay diverged at model request 1" in result.reason
