"""A task that crashes, hangs or cannot start fails with its reason; the others still run."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from cradle.eval.harness import EvalOptions, run_eval
from cradle.eval.progress import EvalProgress
from tests.eval.helpers import ADD, SAVE_HELLO, results, summary, write_suite

SLEEP_MARK = "301.5"  # a sleep nobody else runs: left over only if the sweep missed it


def _task(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def _sleepers() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv[:2] == [b"sleep", SLEEP_MARK.encode()]:
                found.append(int(entry.name))
    return found


def _quiet(total: int) -> EvalProgress:
    return EvalProgress(total, console=Console(file=io.StringIO()), live=False)


def test_crash_hang_and_bad_tasks_fail_with_reasons(tmp_path: Path) -> None:
    started = tmp_path / "hang-started"
    tasks = [
        _task(SAVE_HELLO, id="crashes", setup=[{"run": "kill -9 $PPID"}]),
        _task(SAVE_HELLO, id="bad-option", env_options={"size": "huge"}),
        _task(SAVE_HELLO, id="unknown-env", environment="no-such-env"),
        _task(SAVE_HELLO, id="no-reference", reference=[]),
        _task(
            SAVE_HELLO,
            id="hangs",
            timeout=1,
            setup=[{"run": f"touch {started}"}, {"run": f"sleep {SLEEP_MARK} & sleep 60"}],
        ),
        ADD,
    ]
    suite = write_suite(tmp_path / "tasks", tasks)
    out = tmp_path / "out"
    options = EvalOptions(paths=[suite], out=out, mode="reference", kill_margin=8)
    outcome = run_eval(options, progress=_quiet(len(tasks)))
    lines = results(out)
    assert set(lines) == {t["id"] for t in tasks}
    assert lines[ADD["id"]]["success"] is True
    failed = {tid: line["error"] for tid, line in lines.items() if tid != ADD["id"]}
    assert not any(lines[tid]["success"] for tid in failed)
    assert failed["crashes"].startswith("crashed: the worker was killed by SIGKILL")
    assert "huge" in failed["bad-option"] and failed["bad-option"].startswith("setup:")
    assert "no-such-env" in failed["unknown-env"]
    assert failed["no-reference"] == "no reference solution"
    assert failed["hangs"].startswith("hung: killed after 9 s")
    assert started.exists(), "the hanging setup never started; the sweep was not exercised"
    assert _sleepers() == [], "a process the hung episode started outlived it"
    assert outcome.exit_code == 1
    assert summary(out)["errors"] == 5


def test_sigterm_stops_the_workers_and_keeps_what_finished(tmp_path: Path) -> None:
    """SIGTERM (also with SIGINT ignored, as in a background job) ends the eval with 143."""
    tasks = [
        ADD,
        _task(SAVE_HELLO, id="slow", setup=[{"run": f"sleep {SLEEP_MARK}"}]),
        _task(ADD, id="z-never-started"),
    ]  # files load in name order: last
    suite = write_suite(tmp_path / "tasks", tasks)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cradle", "eval", str(suite), "--reference", "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 120
        while not _sleepers() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _sleepers(), "the slow task never started"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, stderr
    assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr
    assert list(results(out)) == [ADD["id"]]
    data = summary(out)
    assert data["not_run"] == ["slow", "z-never-started"] and data["passed"] == 1
    assert _sleepers() == []
    run_folders = (
        list((out / "runs" / "slow").iterdir()) if (out / "runs" / "slow").exists() else []
    )
    for folder in run_folders:  # the setup never finished: no run, or one marked ended
        assert json.loads((folder / "run.json").read_text())["status"] != "running"
    assert os.environ.get("CRADLE_EVAL_EPISODE") is None
