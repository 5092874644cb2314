"""Run a suite: every task an isolated episode in a worker process, N at once, results kept.

The main thread owns the output folder and the terminal; one thread per worker slot takes the
next task, runs its worker (:class:`~cradle.eval.pool.Slot`) and hands back the result line.
Each finished task is appended to ``results.jsonl`` at once, so a stopped or crashed eval
keeps what finished and ``--resume`` runs only the rest. Ctrl+C, SIGTERM and SIGHUP
(cradle/signals.py) stop the running workers (their runs are written as interrupted, and are
not counted), then summary.json and report.html are written for what finished.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cradle.errors import EXIT_FAILURE, CradleError, UsageError
from cradle.eval.jobs import EvalJob, EvalMode, EvalResult
from cradle.eval.pool import KILL_GRACE, Slot, WorkerRun
from cradle.eval.progress import EvalProgress
from cradle.eval.results import (
    RESULTS_FILE,
    SUMMARY_FILE,
    EvalStorageError,
    append_result,
    read_results,
    summarize,
    write_json,
)
from cradle.signals import deferred, signal_name, stop_of, stop_signals
from cradle.types import Task

KILL_MARGIN = 60.0
"""Seconds a worker gets beyond its task's ``timeout`` (start, setup, checks, report) before
it is killed as hung."""
MAX_WORKERS = 32
RUNS_DIR = "runs"
LOGS_DIR = "logs"


@dataclass
class EvalOptions:
    """What ``cradle eval`` was asked to do."""

    paths: list[Path] = field(default_factory=list)
    """Task files or folders; empty for the shipped suite."""
    out: Path = Path("eval-results")
    workers: int = 1
    resume: bool = False
    mode: EvalMode = "model"
    model: dict[str, Any] = field(default_factory=dict)
    agent: dict[str, Any] = field(default_factory=dict)
    kill_margin: float = KILL_MARGIN


@dataclass
class EvalOutcome:
    summary: dict[str, Any]
    exit_code: int
    out: Path


def shipped_suite() -> list[Path]:
    """Every ``<environment>/tasks`` folder on the environment search path."""
    from cradle.environment import environment_search_path

    folders = [env / "tasks" for root in environment_search_path() if root.is_dir()
               for env in sorted(root.iterdir()) if (env / "tasks").is_dir()]
    if not folders:
        raise UsageError("no shipped tasks found (environments/*/tasks/ on the environment "
                         "search path); give task files or folders")
    return folders


def exit_code(summary: dict[str, Any], mode: EvalMode) -> int:
    """0 when every task ran and passed (with ``noop``: every task ran and its checker failed
    it: a task that failed in setup or crashed proves nothing about its checker), else 1."""
    if summary["not_run"] or (mode == "noop" and summary["errors"]):
        return EXIT_FAILURE
    wanted = 0 if mode == "noop" else summary["tasks"]
    return 0 if summary["passed"] == wanted else EXIT_FAILURE


def run_eval(options: EvalOptions, *, progress: EvalProgress | None = None) -> EvalOutcome:
    """Run the suite; a stop signal ends it after writing what finished (then re-raised)."""
    from cradle.tasks import load_tasks

    if not 1 <= options.workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be 1 to {MAX_WORKERS}")
    task_set = load_tasks(options.paths or shipped_suite())
    out = _prepare_out(options)
    results, warnings = read_results(out / RESULTS_FILE) if options.resume else ({}, [])
    suite = [(t.id, t.environment) for t in task_set.tasks]
    todo = [t for t in task_set.tasks if t.id not in results]
    progress = progress or EvalProgress(len(suite))
    progress.done = len(suite) - len(todo)
    progress.passed = sum(results[t].success for t, _ in suite if t in results)
    started = time.monotonic()
    extra = {"mode": options.mode, "model": _model_name(options), "workers": options.workers}
    stop = None
    with progress:
        for where, reason in task_set.skipped:
            progress.note(f"skipped {where}: {reason}")
        for warning in warnings:
            progress.note(warning)
        if len(todo) < len(suite):
            progress.note(f"resuming: {len(suite) - len(todo)} task(s) already in "
                          f"{out / RESULTS_FILE}")
        try:
            with stop_signals():
                _Scheduler(options, out, progress, results).run(todo)
        except KeyboardInterrupt as exc:
            stop = stop_of(exc)
        with deferred():
            extra["wall_seconds"] = round(time.monotonic() - started, 3)
            summary = summarize(suite, results, skipped=task_set.skipped, extra=extra)
            _write_outputs(out, suite, results, summary)
    if stop is not None:
        raise stop
    return EvalOutcome(summary, exit_code(summary, options.mode), out)


def _model_name(options: EvalOptions) -> str:
    return options.mode if options.mode != "model" else str(options.model.get("model", ""))


def _prepare_out(options: EvalOptions) -> Path:
    out = options.out.resolve()  # workers run in their episode's home, not in this folder
    try:
        (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        (out / LOGS_DIR).mkdir(exist_ok=True)
    except OSError as exc:
        raise EvalStorageError(f"cannot use --out {out}: {exc.strerror or exc}") from None
    existing = out / RESULTS_FILE
    if not options.resume and existing.is_file() and existing.stat().st_size:
        raise UsageError(f"{existing} already holds results: add --resume to run the tasks "
                         "not in it, or choose another --out")
    return out


def _write_outputs(out: Path, suite: list[tuple[str, str]], results: dict[str, EvalResult],
                   summary: dict[str, Any]) -> None:
    from cradle.eval.report import write_report

    write_json(out / SUMMARY_FILE, summary)
    write_report(out, suite, results, summary)


class _Scheduler:
    """Feeds tasks to the slots' threads and records what comes back, in the main thread."""

    def __init__(self, options: EvalOptions, out: Path, progress: EvalProgress,
                 results: dict[str, EvalResult]) -> None:
        self.options = options
        self.out = out
        self.progress = progress
        self.results = results
        self.tasks: queue.Queue[Task] = queue.Queue()
        self.events: queue.Queue[tuple[str, Task, EvalResult | None]] = queue.Queue()
        self.stopping = threading.Event()
        self.needs_display = _display_needs()

    def run(self, todo: list[Task]) -> None:
        if not todo:
            return
        for task in todo:
            self.tasks.put(task)
        scratch = Path(tempfile.mkdtemp(prefix="cradle-eval-"))
        slots = [Slot(number, scratch)
                 for number in range(1, min(self.options.workers, len(todo)) + 1)]
        self._note_dbus(slots[0], todo)
        threads = [threading.Thread(target=self._slot_loop, args=(slot,), daemon=True,
                                    name=f"cradle-eval-slot-{slot.number}") for slot in slots]
        try:
            for thread in threads:
                thread.start()
            remaining = len(todo)
            while remaining:
                try:
                    kind, task, result = self.events.get(timeout=0.25)
                except queue.Empty:
                    continue
                if kind == "started":
                    self.progress.task_started(task.id)
                    continue
                assert result is not None
                self._record(result)
                remaining -= 1
        finally:
            with deferred():
                self._stop(slots, threads)
                shutil.rmtree(scratch, ignore_errors=True)

    def _record(self, result: EvalResult) -> None:
        with deferred():  # a line is written whole, or not at all
            append_result(self.out / RESULTS_FILE, result)
            self.results[result.id] = result
        self.progress.task_finished(result)

    def _stop(self, slots: list[Slot], threads: list[threading.Thread]) -> None:
        """Stop the running workers (SIGTERM, SIGKILL after a grace), keep what finished."""
        self.stopping.set()
        for slot in slots:
            slot.stop()
        deadline = time.monotonic() + KILL_GRACE
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for slot in slots:
            slot.stop(signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=KILL_GRACE)
        while True:  # results that arrived while stopping, from workers that were not stopped
            try:
                kind, _, result = self.events.get_nowait()
            except queue.Empty:
                break
            if kind == "finished" and result is not None and result.id not in self.results \
                    and not (result.error or "").startswith("interrupted"):
                self._record(result)

    def _slot_loop(self, slot: Slot) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    task = self.tasks.get_nowait()
                except queue.Empty:
                    return
                self.events.put(("started", task, None))
                result = self._run_one(slot, task)
                if self.stopping.is_set() and (result.error or "").startswith("interrupted"):
                    return
                self.events.put(("finished", task, result))
        finally:
            slot.close()

    def _run_one(self, slot: Slot, task: Task) -> EvalResult:
        """The task's result line; a harness problem (no Xvfb, no disk) fails only this task."""
        o = self.options
        runs_dir = self.out / RUNS_DIR / task.id
        started = time.time()
        try:
            runs_dir.mkdir(parents=True, exist_ok=True)
            job = EvalJob.of(task, mode=o.mode, runs_dir=str(runs_dir), model=o.model,
                             agent=o.agent)
            run = slot.run(job, needs_display=self.needs_display(task.environment),
                           timeout=task.timeout + o.kill_margin,
                           log=self.out / LOGS_DIR / f"{task.id}.log",
                           more=not self.tasks.empty() and not self.stopping.is_set())
        except (CradleError, OSError) as exc:
            return EvalResult.failed(task, f"harness: {exc}", seconds=time.time() - started)
        if run.result is not None and not run.timed_out:
            return run.result
        reason = self._why(task, run)
        run_dir = _latest_run(runs_dir, since=started)
        if run_dir is not None:
            _close_run(run_dir, reason)
        return EvalResult.failed(task, reason, seconds=run.seconds,
                                 run_dir=str(run_dir or ""))

    def _why(self, task: Task, run: WorkerRun) -> str:
        log = self.out / LOGS_DIR / f"{task.id}.log"
        last = run.log_tail.splitlines()[-1][:300] if run.log_tail.strip() else ""
        seen = f" (last log line: {last})" if last else ""
        if run.timed_out:
            return (f"hung: killed after {task.timeout + self.options.kill_margin:g} s, its "
                    f"timeout ({task.timeout:g} s) plus {self.options.kill_margin:g} s; "
                    f"log: {log}")
        if run.returncode is not None and run.returncode < 0:
            return (f"crashed: the worker was killed by {signal_name(-run.returncode)}{seen}; "
                    f"log: {log}")
        return f"crashed: the worker exited with code {run.returncode} and no result{seen}; " \
               f"log: {log}"

    def _note_dbus(self, slot: Slot, todo: list[Task]) -> None:
        if not slot.has_dbus and any(self.needs_display(t.environment) for t in todo):
            self.progress.note("dbus-run-session not found: episodes share no D-Bus session "
                               "of their own (apt-get install dbus-daemon)")


def _display_needs() -> Callable[[str], bool]:
    """Whether an environment (by name) needs a virtual display; unknown names do not (their
    worker fails at once, naming the environments that exist)."""
    from cradle.environment import discover_environments

    known = {name: info.cls.needs_display for name, info in discover_environments().items()}
    return lambda name: known.get(name, False)


def _latest_run(runs_dir: Path, *, since: float) -> Path | None:
    """The run folder a killed worker was writing (the newest made after it started)."""
    with contextlib.suppress(OSError):
        found = [p for p in runs_dir.iterdir()
                 if p.is_dir() and (p / "run.json").is_file() and p.stat().st_mtime >= since - 1]
        if found:
            return max(found, key=lambda p: p.stat().st_mtime)
    return None


def _close_run(folder: Path, reason: str) -> None:
    """Mark a killed worker's run failed (it said running) and write its report."""
    from cradle.trajectory.loader import load_run, read_info
    from cradle.trajectory.recorder import RunRecorder
    from cradle.trajectory.report import write_report

    try:
        info = read_info(folder)
        if info.status == "running":
            RunRecorder.reopen(folder, info).finish("failed", EXIT_FAILURE, reason)
        write_report(load_run(folder))
    except Exception:  # noqa: BLE001,S110 - the task's line says what happened either way
        pass
