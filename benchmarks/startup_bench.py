"""Start-up and memory footprint of ``cradle run``, measured from outside the process.

    python -m benchmarks.startup_bench [--quick] [--json FILE] [--results FILE [--markdown FILE]]

Start-up: ``cradle run`` (a new Python process, as a user starts it) on mock-notepad at
1920x1080 against tests/fakes/openai_server.py on loopback; the figure is the time from
launching the process to the server receiving the first model request, with long-term memory
on (an embedded store in a temporary folder, the default embedder) and with ``--no-memory``.
The two kinds alternate run by run, so a machine whose speed drifts slows both alike; each
figure is the median, and the ratio is the median of the pairwise ratios. One warm-up run of
each comes first (it also writes the optimised MiniLM copy when the cache has none); the
store the warm-up made is reused, as a user's store is.

Footprint: the peak resident memory (VmHWM of the process, read every 10 ms; see
:class:`HighWater`) of a 20-step ``cradle run`` with memory on, default settings, same
environment and server; the same run with ``--no-memory`` is reported beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.fakes import ScriptedAnswers

STARTUP_GOAL_S = 3.0
STARTUP_RATIO_GOAL = 1.5
RSS_GOAL_MB = 250.0
RSS_STEPS = 20
RUN_TIMEOUT_S = 120.0


class FirstRequest:
    """The fake server's handler: scripted answers, and when the first request came."""

    def __init__(self) -> None:
        self.answers = ScriptedAnswers()
        self.first: float | None = None
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self.first is None:
                self.first = time.perf_counter()
        return self.answers(body)


def launch(folder: Path, steps: int, memory: bool) -> dict[str, Any]:
    """One ``cradle run`` as a separate process: seconds to its first model request, its
    peak RSS, its exit code and the model requests it made."""
    from tests.fakes.openai_server import FakeOpenAIServer

    handler = FirstRequest()
    with FakeOpenAIServer(handler) as server:
        command = [
            sys.executable,
            "-m",
            "cradle",
            "run",
            "--env",
            "mock-notepad",
            "--env-option",
            "size=1920x1080",
            "--task",
            "Type the words into the editor",
            "--base-url",
            server.base_url,
            "--max-steps",
            str(steps),
            "--runs-dir",
            str(folder / "runs"),
            "--generated-skills-dir",
            str(folder / "generated"),
            "--confirm",
            "never",
        ]
        command += ["--memory-dir", str(folder / "memory")] if memory else ["--no-memory"]
        env = dict(os.environ, OPENAI_API_KEY="sk-bench", CRADLE_DATA_DIR=str(folder / "data"))
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        timer = threading.Timer(RUN_TIMEOUT_S, process.kill)
        timer.start()
        watch = HighWater(process.pid)
        try:
            errors = process.stderr.read() if process.stderr else b""
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            watch.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        first = handler.first
    return {
        "startup_s": None if first is None else round(first - started, 3),
        "peak_rss_mb": round((watch.peak_kb or usage.ru_maxrss) / 1024, 1),
        "exit_code": process.returncode,
        "requests": handler.answers.plans,
        "stderr_tail": errors.decode("utf-8", "replace").strip().splitlines()[-1:],
    }


class HighWater:
    """The peak resident memory of one process, read from ``/proc/<pid>/status`` (VmHWM)
    every 10 ms until it ends.

    ``ru_maxrss`` from ``wait4`` is not that on Linux: a child keeps the high-water mark of
    the process it was forked from across ``exec``, so a run started by a benchmark that has
    grown (the 100k-memory store) reported the benchmark's own size. VmHWM belongs to the
    process's address space since its ``exec``. Elsewhere (no /proc) ``peak_kb`` stays 0.
    """

    def __init__(self, pid: int) -> None:
        self.peak_kb = 0
        self._path = Path(f"/proc/{pid}/status")
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="rss-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.is_set():
            try:
                text = self._path.read_text()
            except OSError:
                return  # the process is gone (or there is no /proc)
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            self._done.wait(0.01)

    def stop(self) -> None:
        self._done.set()
        self._thread.join(5)


def startup(runs: int, folder: Path) -> dict[str, Any]:
    """Alternating runs with and without memory (after a warm-up of each)."""
    rows: dict[str, list[dict[str, Any]]] = {"memory": [], "no_memory": []}
    for index in range(runs + 1):
        for kind in ("memory", "no_memory"):
            row = launch(folder, 1, kind == "memory")
            if row["startup_s"] is None:
                raise RuntimeError(f"cradle run ({kind}) made no model request: {row}")
            if index:
                rows[kind].append(row)
    pairs = [
        m["startup_s"] / n["startup_s"]
        for m, n in zip(rows["memory"], rows["no_memory"], strict=True)
    ]
    return {
        kind: {
            "median_s": round(statistics.median(r["startup_s"] for r in found), 3),
            "runs_s": [r["startup_s"] for r in found],
        }
        for kind, found in rows.items()
    } | {"ratio_median": round(statistics.median(pairs), 3), "runs": runs}


def footprint(folder: Path) -> dict[str, Any]:
    """Peak RSS of a 20-step run with memory on, and of the same run without it."""
    out: dict[str, Any] = {"steps": RSS_STEPS}
    for kind in ("memory", "no_memory"):
        row = launch(folder / kind, RSS_STEPS, kind == "memory")
        if row["exit_code"] not in (0, 3):  # 3: the step budget ran out, as intended
            raise RuntimeError(f"the {RSS_STEPS}-step run ({kind}) failed: {row}")
        out[kind] = row
    return out


def run(quick: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cradle-startup-bench-") as tmp:
        report = {
            "startup": startup(3 if quick else 7, Path(tmp) / "startup"),
            "footprint": footprint(Path(tmp) / "footprint"),
        }
    return report


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """``startup_s_memory``, ``startup_s_no_memory`` and ``peak_rss_mb_20_steps``."""
    from benchmarks.suite import figure

    s, f = report["startup"], report["footprint"]
    memory, bare, ratio = s["memory"]["median_s"], s["no_memory"]["median_s"], s["ratio_median"]
    how = (
        "launch of `cradle run` (a new process) to the first model request at "
        "tests/fakes/openai_server.py, mock-notepad 1920x1080; median of "
        f"{s['runs']} runs alternating with the other kind, after a warm-up of each "
        "(benchmarks/startup_bench.py)"
    )
    rss = f["memory"]["peak_rss_mb"]
    return {
        "startup_s_memory": figure(
            memory,
            "s",
            f"{how}; long-term memory on (embedded store, MiniLM); "
            f"{ratio:g}x startup_s_no_memory (median of the pairwise ratios)",
            f"<= {STARTUP_RATIO_GOAL:g}x no memory, < {STARTUP_GOAL_S:g} s (quiet machine)",
            ratio <= STARTUP_RATIO_GOAL and memory < STARTUP_GOAL_S,
        ),
        "startup_s_no_memory": figure(bare, "s", f"{how}; --no-memory"),
        "peak_rss_mb_20_steps": figure(
            rss,
            "MB",
            f"VmHWM (read every 10 ms) of a {f['steps']}-step `cradle run` with memory on, "
            "default settings, same environment and server; with --no-memory: "
            f"{f['no_memory']['peak_rss_mb']:g} MB",
            f"< {RSS_GOAL_MB:g} MB",
            rss < RSS_GOAL_MB,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs of each kind, not 7")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the report here")
    parser.add_argument(
        "--results",
        metavar="FILE",
        type=Path,
        help="put the figures into this cradle bench report (results.json)",
    )
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        type=Path,
        help="with --results: re-render BENCHMARKS.md from it",
    )
    args = parser.parse_args(argv)
    report = run(args.quick)
    report["command"] = "python -m benchmarks.startup_bench" + (" --quick" if args.quick else "")
    found = figures(report)
    if args.results:
        from benchmarks.markdown import update_results
        from cradle.errors import CradleError

        try:
            update_results(args.results, args.markdown, found, "startup", report)
        except CradleError as exc:
            print(f"startup_bench: error: {exc}", file=sys.stderr)
            return 1
    for name, fig in found.items():
        print(
            f"{name:<22} {fig['value']} {fig['unit']}  (goal {fig['goal'] or '-'}) "
            f"{'' if fig['met'] is None else ('ok' if fig['met'] else 'MISSED')}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
