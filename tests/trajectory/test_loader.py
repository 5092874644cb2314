"""Reading run folders back: damage that is tolerated, damage that is an error with a place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cradle.errors import TrajectoryError
from cradle.trajectory.loader import load_run
from cradle.trajectory.recorder import RunRecorder
from tests.trajectory.helpers import demo_run


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    return demo_run(tmp_path).folder


def test_loads_a_complete_run(run_dir: Path) -> None:
    run = load_run(run_dir)
    assert run.info.status == "done" and len(run.steps) == 5 and run.last_step == 5
    assert run.warnings == [] and not run.truncated and run.missing == {}
    assert run.totals() == run.info.totals
    assert [a.source for _, a in run.ok_actions()][1] == "click(x=55, y=64)"


def test_truncated_last_line_is_a_warning(run_dir: Path) -> None:
    path = run_dir / "trajectory.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]) + lines[3][: len(lines[3]) // 2])
    run = load_run(run_dir)
    assert run.truncated and len(run.steps) == 3
    assert any("cut off" in w and "step 4" in w for w in run.warnings)


def test_bad_line_in_the_middle_names_file_and_line(run_dir: Path) -> None:
    path = run_dir / "trajectory.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:40]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TrajectoryError, match=r"trajectory\.jsonl:2: not valid JSON"):
        load_run(run_dir)


def test_a_complete_but_invalid_last_line_is_an_error(run_dir: Path) -> None:
    path = run_dir / "trajectory.jsonl"
    with open(path, "a") as handle:
        handle.write('{"step": 9}\n')
    with pytest.raises(TrajectoryError, match=r":6: .*Field required"):
        load_run(run_dir)


def test_schema_error_says_which_field(run_dir: Path) -> None:
    path = run_dir / "trajectory.jsonl"
    lines = path.read_text().splitlines()
    data = json.loads(lines[2])
    data["actions"][0]["status"] = "great"
    lines[2] = json.dumps(data)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TrajectoryError) as err:
        load_run(run_dir)
    assert ":3: actions.0.status" in str(err.value) and "\n" not in str(err.value)


def test_steps_must_increase(run_dir: Path) -> None:
    path = run_dir / "trajectory.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[0]]) + "\n")
    with pytest.raises(TrajectoryError, match="step 1 follows step 1"):
        load_run(run_dir)


def test_missing_screenshot_is_reported_per_step(run_dir: Path) -> None:
    (run_dir / "screenshots" / "step-0002.png").unlink()
    run = load_run(run_dir)
    assert run.missing == {2: ["screenshots/step-0002.png"]}
    assert run.screenshot(run.steps[1]) is None
    assert any("step 2: missing" in w for w in run.warnings)


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(TrajectoryError, match="not a run folder"):
        load_run(tmp_path)
    with pytest.raises(TrajectoryError, match="does not exist"):
        load_run(tmp_path / "nope")


def test_bad_run_json(run_dir: Path) -> None:
    (run_dir / "run.json").write_text("{not json")
    with pytest.raises(TrajectoryError, match=r"run\.json: not valid JSON"):
        load_run(run_dir)
    (run_dir / "run.json").write_text(json.dumps({"run_id": "x"}))
    with pytest.raises(TrajectoryError, match=r"run\.json: task: Field required"):
        load_run(run_dir)


def test_newer_format_version_is_refused(run_dir: Path) -> None:
    data = json.loads((run_dir / "run.json").read_text())
    data["format_version"] = 99
    (run_dir / "run.json").write_text(json.dumps(data))
    with pytest.raises(TrajectoryError, match="newer than this cradle reads"):
        load_run(run_dir)


def test_reopen_drops_a_partial_line_and_appends(run_dir: Path) -> None:
    path = run_dir / "trajectory.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]) + b'{"run_id": "cut')
    run = load_run(run_dir)
    recorder = RunRecorder.reopen(run_dir, run.info)
    assert path.read_bytes() == b"".join(lines[:2])
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    recorder.append_step(run.steps[-1].model_copy(update={"step": 3}))
    recorder.finish("done", 0)
    again = load_run(run_dir)
    assert [s.step for s in again.steps] == [1, 2, 3] and not again.truncated


def test_an_oversized_line_is_refused_without_reading_it_whole(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cradle.trajectory.loader as loader

    path = run_dir / "trajectory.jsonl"
    longest = max(len(line) for line in path.read_bytes().splitlines(keepends=True))
    monkeypatch.setattr(loader, "MAX_STEP_LINE_BYTES", longest)
    assert len(load_run(run_dir).steps) == 5  # every line cradle wrote still fits
    path.write_bytes(path.read_bytes() + b'{"pad": "' + b"x" * 2 * longest + b'"}\n')
    expected = rf"trajectory.jsonl:6: longer than {longest:,} bytes"
    with pytest.raises(TrajectoryError, match=expected):
        load_run(run_dir)
