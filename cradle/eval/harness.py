"""Run a suite: every task an isolated episode in a worker process, N at once, results kept.

The main thread owns the output folder and the terminal; one thread per worker slot takes the
next task, runs its worker (:class:`~cradle.eval.pool.Slot`) and hands back the result line.
Each finished task is appended to ``results.jsonl`` at once, so a stopped or crashed eval
keeps what finished and ``--resume`` runs only the rest. Ctrl+C, SIGTERM and SIGHUP
(cradle/signals.py) stop the running workers (their runs are written as interrupted, and are
not counted), then summary.json and report.html are written for what finished.
"""

from __future__ import annotations

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

from cradle.errors import EXIT_FAILURE, UsageError
from cradle.eval.fleet import SharedSkills, check_memory, memory_place, shared_skills
from cradle.eval.jobs import EvalJob, EvalMode, EvalResult
from cradle.eval.pool import KILL_GRACE, Attempt, Slot, run_in_slot
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
from cradle.signals import deferred, stop_of, stop_signals
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
    memory: dict[str, Any] | None = None
    """``MemorySettings`` as JSON for every episode (cradle.eval.fleet); None: no memory."""
    generated_skills_dir: Path | None = None
    """The user's folder of promoted skills (episodes load it); None: OUT/generated_skills,
    which only collects them."""
    retries: int = 1
    """More attempts for a task whose worker crashed (or whose Ray node was lost)."""
    ray: str | None = None
    """A Ray cluster's address (``auto``: Ray's own discovery): run there, not locally."""
    shared_out: Path | None = None
    """With ``ray``: a folder every node sees at this path; run folders are written there
    instead of coming back to ``out``."""
    tasks: list[Task] | None = None
    """Tasks made in memory (``cradle run --tasks-file``) instead of task files."""


@dataclass
class EvalOutcome:
    summary: dict[str, Any]
    exit_code: int
    out: Path


def shipped_suite() -> list[Path]:
    """Every ``<environment>/tasks`` folder on the environment search path."""
    from cradle.environment import environment_search_path

    folders = [
        env / "tasks"
        for root in environment_search_path()
        if root.is_dir()
        for env in sorted(root.iterdir())
        if (env / "tasks").is_dir()
    ]
    if not folders:
        raise UsageError(
            "no shipped tasks found (environments/*/tasks/ on the environment "
            "search path); give task files or folders"
        )
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
    from cradle.tasks.loader import TaskSet

    if not 1 <= options.workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be 1 to {MAX_WORKERS}")
    check_memory(options.memory, options.workers)
    task_set = (
        TaskSet(list(options.tasks))
        if options.tasks is not None
        else load_tasks(options.paths or shipped_suite())
    )
    out = _prepare_out(options)
    results, warnings = read_results(out / RESULTS_FILE) if options.resume else ({}, [])
    skills = shared_skills(options.generated_skills_dir, out)
    if options.resume:
        skills.resume(out / SUMMARY_FILE, results)
    suite = [(t.id, t.environment) for t in task_set.tasks]
    todo = [t for t in task_set.tasks if t.id not in results]
    progress = progress or EvalProgress(len(suite))
    progress.done = len(suite) - len(todo)
    progress.passed = sum(results[t].success for t, _ in suite if t in results)
    started = time.monotonic()
    extra: dict[str, Any] = {
        "mode": options.mode,
        "model": _model_name(options),
        "workers": options.workers,
        "memory": memory_place(options.memory),
    }
    stop = None
    scheduler = _scheduler_class(options)(options, out, progress, results, skills)
    with progress:
        for where, reason in task_set.skipped:
            progress.note(f"skipped {where}: {reason}")
        for warning in warnings:
            progress.note(warning)
        if len(todo) < len(suite):
            progress.note(
                f"resuming: {len(suite) - len(todo)} task(s) already in {out / RESULTS_FILE}"
            )
        try:
            with stop_signals():
                scheduler.run(todo)
        except KeyboardInterrupt as exc:
            stop = stop_of(exc)
        with deferred():
            extra["wall_seconds"] = round(time.monotonic() - started, 3)
            extra["skills"] = skills.summary()
            extra.update(scheduler.summary())
            summary = summarize(suite, results, skipped=task_set.skipped, extra=extra)
            _write_outputs(out, suite, results, summary)
    if stop is not None:
        raise stop
    return EvalOutcome(summary, exit_code(summary, options.mode), out)


def _scheduler_class(options: EvalOptions) -> type[Scheduler]:
    if options.ray is None:
        return Scheduler
    from cradle.eval.cluster import RayScheduler

    return RayScheduler


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
        raise UsageError(
            f"{existing} already holds results: add --resume to run the tasks "
            "not in it, or choose another --out"
        )
    return out


def _write_outputs(
    out: Path, suite: list[tuple[str, str]], results: dict[str, EvalResult], summary: dict[str, Any]
) -> None:
    from cradle.eval.report import write_report

    write_json(out / SUMMARY_FILE, summary)
    write_report(out, suite, results, summary)


class Scheduler:
    """Feeds tasks to the slots' threads and records what comes back, in the main thread.

    The Ray scheduler (cradle.eval.cluster) is this class with another ``run``: jobs,
    recording and the retry rule are the same."""

    def __init__(
        self,
        options: EvalOptions,
        out: Path,
        progress: EvalProgress,
        results: dict[str, EvalResult],
        skills: SharedSkills,
    ) -> None:
        self.options = options
        self.skills = skills
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
        slots = [
            Slot(number, scratch) for number in range(1, min(self.options.workers, len(todo)) + 1)
        ]
        self._note_dbus(slots[0], todo)
        threads = [
            threading.Thread(
                target=self._slot_loop,
                args=(slot,),
                daemon=True,
                name=f"cradle-eval-slot-{slot.number}",
            )
            for slot in slots
        ]
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
                if kind == "retry":
                    assert result is not None
                    self.note_retry(task, result)
                    continue
                assert result is not None
                self._record(task, result)
                remaining -= 1
        finally:
            with deferred():
                self._stop(slots, threads)
                shutil.rmtree(scratch, ignore_errors=True)

    def summary(self) -> dict[str, Any]:
        """What this scheduler adds to summary.json."""
        return {}

    def job(self, task: Task, runs_dir: Path) -> EvalJob:
        """The worker's job for ``task``, its run folder going into ``runs_dir``."""
        o = self.options
        return EvalJob.of(
            task,
            mode=o.mode,
            runs_dir=str(runs_dir),
            model=o.model,
            agent=o.agent,
            memory=o.memory,
            skills=self.skills.for_job(),
        )

    def note_retry(self, task: Task, result: EvalResult) -> None:
        self.progress.note(f"{task.id}: {result.error}; trying again")

    def _record(self, task: Task, result: EvalResult) -> None:
        """Promote the task's skills if it passed (here alone: one writer of the folder),
        then append its line."""
        self.skills.take(task, result)
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
                kind, task, result = self.events.get_nowait()
            except queue.Empty:
                break
            if (
                kind == "finished"
                and result is not None
                and result.id not in self.results
                and not (result.error or "").startswith("interrupted")
            ):
                self._record(task, result)

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
        """The task's result line, after up to ``retries`` more attempts when its worker
        crashed; a harness problem (no Xvfb, no disk) fails only this task."""
        o, log, attempt = self.options, self.out / LOGS_DIR / f"{task.id}.log", 1
        while True:
            done = run_in_slot(
                slot,
                self.job(task, self.out / RUNS_DIR / task.id),
                needs_display=self.needs_display(task),
                kill_margin=o.kill_margin,
                log=log,
                log_shown=str(log),
                more=not self.tasks.empty() and not self.stopping.is_set(),
            )
            if not done.retry or attempt > o.retries or self.stopping.is_set():
                return final_result(done, attempt)
            self.events.put(("retry", task, done.result))
            attempt += 1

    def _note_dbus(self, slot: Slot, todo: list[Task]) -> None:
        if not slot.has_dbus and any(self.needs_display(t) for t in todo):
            self.progress.note(
                "dbus-run-session not found: episodes share no D-Bus session "
                "of their own (apt-get install dbus-daemon)"
            )


def _display_needs() -> Callable[[Task], bool]:
    """Whether a task needs a virtual display: as its ``needs`` says, else as its environment
    does; unknown environments do not (their worker fails at once, naming those that exist)."""
    from cradle.environment import discover_environments

    known = {name: info.cls.needs_display for name, info in discover_environments().items()}
    return lambda task: (
        task.needs.display if task.needs.display is not None else known.get(task.environment, False)
    )


def final_result(attempt: Attempt, tries: int) -> EvalResult:
    """The line of a task's last attempt; a crash after retries says how many attempts."""
    result = attempt.result
    if attempt.retry and tries > 1:
        return result.model_copy(update={"error": f"{result.error} ({tries} attempts)"})
    return result
