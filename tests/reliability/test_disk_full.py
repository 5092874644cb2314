"""A full disk or an unwritable file mid-run ends the run with one line and exit 5.

The fault is real, not mocked: while the run goes, the test plants a symbolic link to
``/dev/full`` (every write fails with ENOSPC, "No space left on device") where the recorder is
about to write, or a folder where it needs a file. ``cradle run`` itself is the real command;
the only addition is a hook on the console's "step N" line that plants the fault.
Checked: exit 5, no traceback, the final line names the file, run.json final whenever it can
be written, the steps written so far still load, and no temporary file is left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cradle.errors import EXIT_ENVIRONMENT
from cradle.trajectory.loader import load_run
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.helpers import Finished, Plans, assert_clean_stop, cradle_env

PLANT = """
import json, os, sys
from pathlib import Path
from cradle.cli import console
from cradle.cli.app import main

faults = json.loads(os.environ["CRADLE_TEST_FAULTS"])
started = console.ConsoleProgress.step_started

def step_started(self, step):
    for relative, target in faults.get(str(step), []):
        (folder,) = Path("runs").iterdir()
        path = folder / relative
        if target == "folder":
            path.mkdir()
        else:
            os.symlink(target, path)
    started(self, step)

console.ConsoleProgress.step_started = step_started
sys.argv[0] = "cradle"
main()
"""
NO_SPACE = "No space left on device"


def run_with_faults(tmp_path: Path, faults: dict[int, list[tuple[str, str]]]) -> Finished:
    """``cradle run`` on mock-notepad (four typing steps, then done) with ``faults`` planted:
    step number -> (path in the run folder, ``/dev/full`` or ``folder``)."""
    plans = Plans(*[[f"type_text(text='line {n}')"] for n in range(1, 5)])
    env = cradle_env({"CRADLE_TEST_FAULTS": json.dumps(faults)})
    with FakeOpenAIServer(plans) as server:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                PLANT,
                "run",
                "--env",
                "mock-notepad",
                "--task",
                "type",
                "--base-url",
                server.base_url,
                "--model",
                "fake-vlm",
                "--no-memory",
                "--runs-dir",
                "runs",
                "--generated-skills-dir",
                "generated",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    return Finished(result.returncode, result.stdout, result.stderr, 0.0, tmp_path / "runs")


def assert_no_temporary_files(result: Finished) -> None:
    left = [p for p in result.run_dir.rglob("*.tmp") if p.is_file() or p.is_symlink()]
    assert not left, left


def assert_no_raw_errors(result: Finished) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "OSError" not in output and "Errno" not in output, output[
        -3000:
    ]


def test_a_screenshot_hitting_a_full_disk_ends_the_run_with_one_line(tmp_path: Path) -> None:
    result = run_with_faults(tmp_path, {2: [("screenshots/step-0002.png.tmp", "/dev/full")]})
    info = assert_clean_stop(result, EXIT_ENVIRONMENT, "failed", f"step-0002.png: {NO_SPACE}")
    assert_no_raw_errors(result)
    assert "cradle run --resume" in info["reason"]
    assert_no_temporary_files(result)
    run = load_run(result.run_dir)  # every step written so far still loads
    assert [s.step for s in run.steps] == [1, 2, 3]  # the step after the fault is kept too
    assert run.missing == {2: ["screenshots/step-0002.png"]}
    assert info["totals"]["steps"] == 3


def test_a_full_disk_under_the_trajectory_ends_the_run_before_a_step_is_lost(
    tmp_path: Path,
) -> None:
    result = run_with_faults(tmp_path, {1: [("trajectory.jsonl", "/dev/full")]})
    planted = result.run_dir / "trajectory.jsonl"
    assert planted.is_symlink()
    planted.unlink()  # reading /dev/full never ends; nothing could be stored in it anyway
    planted.write_text("")
    info = assert_clean_stop(result, EXIT_ENVIRONMENT, "failed", f"trajectory.jsonl: {NO_SPACE}")
    assert_no_raw_errors(result)
    assert info["totals"]["steps"] == 0
    assert_no_temporary_files(result)


def test_an_unwritable_run_json_still_ends_with_one_line(tmp_path: Path) -> None:
    # From step 2 on, run.json's temporary name is a folder: run.json can never be replaced.
    result = run_with_faults(tmp_path, {2: [("run.json.tmp", "folder")]})
    assert result.code == EXIT_ENVIRONMENT, result.stderr[-3000:]
    assert_no_raw_errors(result)
    final = [line for line in result.stderr.splitlines() if line.startswith("failed after")]
    assert final and "run.json" in final[-1] and "Is a directory" in final[-1], final
    info = result.info()  # the last run.json that could be written, whole
    assert info["status"] == "running" and info["totals"]["steps"] == 1
    assert [s.step for s in load_run(result.run_dir).steps] == [1, 2]
    assert_no_temporary_files(result)
