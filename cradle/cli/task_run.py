"""``cradle run --task-file FILE [--task-id ID]``: one task of a task file, as one episode.

The task brings its instruction, environment, options, setup, step limit, timeout and
checks; the flags bring the model and the loop settings. The episode runs in a home folder of
its own inside the run folder (``~`` in the task is that folder, as under ``cradle eval``),
on this process's display. The verdict is printed, and decides the exit code: 0 only when
every check passed, whatever the model said. Otherwise the run's own code when it had one
(3 budget, 4 model, 5 environment or setup, 130/143/129 stopped), else 1: the model
declared the task done but the checks say it is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cradle.cli.console import ConsoleProgress
from cradle.errors import EXIT_CODES, EXIT_ENVIRONMENT, EXIT_FAILURE, UsageError
from cradle.types import Task, TaskResult

if TYPE_CHECKING:
    from cradle.episode import EpisodeSettings


def pick_task(task_file: Path, task_id: str | None) -> Task:
    """The task of ``task_file`` named ``task_id`` (or its only task); one-line errors."""
    from cradle.tasks.loader import load_tasks

    found = load_tasks([task_file])
    if task_id is not None:
        for task in found.tasks:
            if task.id == task_id:
                return task
        skipped = [reason for where, reason in found.skipped if task_id in where]
        why = f" (skipped: {skipped[0]})" if skipped else ""
        raise UsageError(f"{task_file}: no task with id {task_id!r}{why}; ids: {_ids(found.tasks)}")
    if len(found.tasks) != 1:
        raise UsageError(
            f"{task_file} holds {len(found.tasks)} tasks; choose one with "
            f"--task-id (ids: {_ids(found.tasks)})"
        )
    return found.tasks[0]


def _ids(tasks: list[Task], shown: int = 20) -> str:
    names = [task.id for task in tasks[:shown]]
    more = f" and {len(tasks) - shown} more" if len(tasks) > shown else ""
    return (", ".join(names) or "none") + more


def exit_code(result: TaskResult, run_code: int | None) -> int:
    """0 only for a passed verdict; see the module docstring."""
    if result.success:
        return 0
    if result.stage == "setup":
        return run_code or EXIT_ENVIRONMENT
    return run_code or EXIT_FAILURE


def run_task_file(settings: EpisodeSettings, task: Task, progress: ConsoleProgress) -> int:
    """Run ``task`` with the flags' ``settings``, print the verdict, return the exit code.

    What stops the task before its run folder exists (an unknown environment or option in
    the task, an unwritable --runs-dir) is bad input: a one-line error, exit 2."""
    from cradle.runtime import Runtime
    from cradle.task_episode import run_task
    from cradle.trajectory.loader import load_run

    with Runtime(settings, on_warning=progress.warn) as runtime:
        for warning in runtime.warnings:
            progress.warn(warning)
        result = run_task(
            runtime, task, runs_dir=settings.runs_dir, agent=settings.agent, progress=progress
        )
    if not result.run_dir:
        raise UsageError(f"task {task.id}: {result.error}")
    try:
        run_code = load_run(result.run_dir).info.exit_code
    except UsageError:
        run_code = None
    code = exit_code(result, run_code)
    show_verdict(progress, result, code)
    return code


def show_verdict(progress: ConsoleProgress, result: TaskResult, code: int) -> None:
    """How the episode ended (the claim), each check (the fact), and the exit code."""
    from rich.markup import escape

    console = progress.console
    if result.status != "not_started":
        console.print(
            f"episode: {result.status} after {result.steps} step(s): {escape(result.reason)}"
        )
    for check in result.checks:
        mark = "[green]pass[/green]" if check.passed else "[red]FAIL[/red]"
        console.print(f"  check  {mark} {check.kind}: {escape(check.detail)}")
    style, word = ("green", "PASSED") if result.success else ("red", "FAILED")
    where = f" at {result.stage}" if not result.success and result.stage != "done" else ""
    console.print(
        f"[{style}]task {escape(result.id)}: {word}{where}[/{style}]"
        + (f": {escape(result.error)}" if result.error else "")
        + f" (exit {code}: {EXIT_CODES.get(code, '')})"
    )
    if result.run_dir:
        console.print(f"run folder: {result.run_dir}")
