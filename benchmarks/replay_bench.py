"""Replay speed: actions per second when a recorded run is re-executed, settle waits included.

    python -m benchmarks.replay_bench

The offline demo (cradle.demo: five steps on mock-notepad, typing, menus, a dialog) is
recorded, then replayed with ``cradle.playback.replay.replay_run`` and its default options:
before each step the screen must settle (two identical frames 50 ms apart) and match the
recorded screenshot. The figure is actions replayed / wall seconds of ``replay_run`` (which
includes starting the environment and loading the skills).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from cradle.demo import run_demo
from cradle.playback.replay import replay_run
from cradle.trajectory.loader import load_run


def run(repeat: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cradle-replay-bench-") as tmp:
        result = run_demo(runs_dir=Path(tmp), mode="fused")
        loaded = load_run(result.run_dir)
        best: dict[str, Any] = {}
        for _ in range(repeat):
            started = time.perf_counter()
            report = replay_run(loaded)
            seconds = time.perf_counter() - started
            if not report.ok:
                raise RuntimeError(report.reason())
            rate = report.actions_replayed / seconds
            if not best or rate > best["actions_per_s"]:
                best = {
                    "actions": report.actions_replayed,
                    "steps": report.steps_checked,
                    "seconds": round(seconds, 3),
                    "actions_per_s": round(rate, 2),
                }
    return best


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
