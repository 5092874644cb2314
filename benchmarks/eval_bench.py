"""``cradle eval`` harness: suite wall time with 1 and 2 workers, and its own cost per task.

    python -m benchmarks.eval_bench          # the shipped mocked tasks
    python -m benchmarks.eval_bench --all    # the whole shipped suite (Xvfb and its apps)

The shipped mocked tasks (``environments/mock_*/tasks``), or with ``--all`` every shipped
task (``environments/*/tasks``), run with ``--reference`` through
``cradle.eval.harness.run_eval``, once with ``--workers 1`` and once with ``--workers 2``, in
the same process, one after the other. A task's own time is its result's ``seconds`` (the
episode in its worker: setup, loop, final state, checks); the harness's own cost per task is
``(wall time with 1 worker - sum of seconds) / tasks``: starting the worker process (Python
and cradle's imports), the job and result over pipes, the run's report.html, the results
line and the sweep for leftover processes. ``worker_start_s`` times the first part alone: a
worker process that imports everything and exits on an empty job (median of 3).
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cradle.paths import project_dir


def _suite(everything: bool) -> list[Path]:
    pattern = "environments/*/tasks" if everything else "environments/mock_*/tasks"
    folders = sorted(project_dir().glob(pattern))
    if not folders:
        raise RuntimeError(f"no shipped tasks ({pattern})")
    return folders


def _worker_start() -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cradle.eval.worker"],
            input=b"",
            capture_output=True,
            check=False,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _eval(folders: list[Path], out: Path, workers: int) -> tuple[float, list[Any]]:
    from rich.console import Console

    from cradle.eval.harness import EvalOptions, run_eval
    from cradle.eval.progress import EvalProgress
    from cradle.eval.results import read_results

    started = time.perf_counter()
    run_eval(
        EvalOptions(paths=folders, out=out, workers=workers, mode="reference"),
        progress=EvalProgress(0, console=Console(file=io.StringIO()), live=False),
    )
    wall = time.perf_counter() - started
    return wall, list(read_results(out / "results.jsonl")[0].values())


def run(everything: bool = False) -> dict[str, Any]:
    folders = _suite(everything)
    with tempfile.TemporaryDirectory(prefix="cradle-eval-bench-") as tmp:
        one, results = _eval(folders, Path(tmp) / "w1", 1)
        two, results_2 = _eval(folders, Path(tmp) / "w2", 2)
    tasks = len(results)
    episode = sum(r.seconds for r in results)
    return {
        "suite": "all shipped tasks" if everything else "shipped mocked tasks",
        "tasks": tasks,
        "passed": [sum(r.success for r in results), sum(r.success for r in results_2)],
        "wall_s_workers_1": round(one, 2),
        "wall_s_workers_2": round(two, 2),
        "ratio_2_to_1": round(two / one, 3),
        "episode_s_mean": round(episode / tasks, 3),
        "harness_s_per_task": round((one - episode) / tasks, 3),
        "worker_start_s": round(_worker_start(), 3),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(everything="--all" in sys.argv[1:]), indent=2))
