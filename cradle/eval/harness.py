"""Run a suite: every task an isolated episode in a worker process, N at once, results kept.

The main thread owns the output folder and the terminal; the scheduler
(:mod:`cradle.eval.scheduler` locally, :mod:`cradle.eval.cluster` on Ray) runs the workers.
Each finished task is appended to ``results.jsonl`` at once, so a stopped or crashed eval
keeps what finished and ``--resume`` runs only the rest. Ctrl+C, SIGTERM and SIGHUP
(cradle/signals.py) stop the running workers (their runs are written as interrupted, and are
not counted), then summary.json and report.html are written for what finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cradle.errors import EXIT_FAILURE, UsageError
from cradle.eval.fleet import check_memory, memory_place, shared_skills
from cradle.eval.jobs import EvalMode, EvalResult
from cradle.eval.options import EvalOptions
from cradle.eval.progress import EvalProgress
from cradle.eval.results import (
    LOGS_DIR,
    RESULTS_FILE,
    RUNS_DIR,
    SUMMARY_FILE,
    EvalStorageError,
    read_results,
    summarize,
    write_json,
)
from cradle.eval.scheduler import Scheduler
from cradle.signals import deferred, stop_of, stop_signals

MAX_WORKERS = 32


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
