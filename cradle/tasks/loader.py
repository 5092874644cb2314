"""Read task files: YAML (so also JSON), one task or a list of tasks per file.

A task file written by someone else is outside input: every problem is one line naming the
file, the task and the field (``tasks/editor.yaml: task 'save-note': check.0.file.path: Field
required``), files are bounded in size and tasks in number, and two tasks may not share an id.
OSWorld-style task JSON (``instruction``/``config``/``evaluator``) is translated by
:mod:`cradle.tasks.osworld`; what it cannot translate is listed as skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cradle.errors import UsageError
from cradle.tasks.osworld import translate
from cradle.tasks.validation import validation_problem
from cradle.types import Task

MAX_FILE_BYTES = 1_000_000
MAX_TASKS = 10_000
SUFFIXES = (".yaml", ".yml", ".json")


class TaskFileError(UsageError):
    """A task file cannot be read as tasks; the message names file, task and field."""


@dataclass
class TaskSet:
    """The tasks found, and the ones left out with the reason (never silently dropped)."""

    tasks: list[Task] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(where, reason)`` for each task that could not be translated."""


def task_files(paths: Iterable[Path]) -> list[Path]:
    """Task files under ``paths`` (files as given, folders searched recursively, sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise TaskFileError(f"{path}: no such task file or folder")
    return found


def load_tasks(paths: Sequence[Path]) -> TaskSet:
    """Every task in ``paths``; ``TaskFileError`` on the first unusable file or task."""
    result = TaskSet()
    seen: dict[str, str] = {}
    files = task_files(paths)
    if not files:
        where = ", ".join(map(str, paths))
        raise TaskFileError(f"no task files (*.yaml, *.yml, *.json) in {where}")
    for path in files:
        for task in _tasks_in(path, result):
            if task.id in seen:
                raise TaskFileError(f"{path}: task {task.id!r}: id already used in {seen[task.id]}")
            seen[task.id] = str(path)
            result.tasks.append(task)
            if len(result.tasks) > MAX_TASKS:
                raise TaskFileError(f"more than {MAX_TASKS} tasks; split the suite")
    return result


def _tasks_in(path: Path, result: TaskSet) -> list[Task]:
    raw = _read(path)
    if raw is None or raw == []:
        raise TaskFileError(f"{path}: no task in it; write one (see the README's task format)")
    items = raw if isinstance(raw, list) else [raw]
    tasks: list[Task] = []
    for index, item in enumerate(items):
        where = f"{path}" if len(items) == 1 else f"{path}: item {index + 1}"
        if not isinstance(item, dict):
            raise TaskFileError(f"{where}: a task is a mapping of keys, not {type(item).__name__}")
        if _is_osworld(item):
            task, reason = translate(item, source=str(path))
            if task is None:
                result.skipped.append((f"{where} ({item.get('id', '?')})", reason))
                continue
            item = task
        tasks.append(_validate(item, where, path))
    return tasks


def _is_osworld(item: dict[str, Any]) -> bool:
    return "evaluator" in item and "environment" not in item


def _validate(item: dict[str, Any], where: str, path: Path) -> Task:
    name = item.get("id")
    label = f"task {name!r}" if isinstance(name, str) else "a task without an id"
    try:
        task = Task.model_validate({**item, "source": str(path)})
    except ValidationError as exc:
        raise TaskFileError(f"{where}: {label}: {validation_problem(exc)}") from None
    if not task.check:  # unchecked tasks are only made in memory (cradle run --tasks-file)
        raise TaskFileError(
            f"{where}: {label}: check: give at least one check; the checks, "
            "not the model's done, decide whether the task passed"
        )
    return task


def _read(path: Path) -> Any:
    import yaml

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TaskFileError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; split it")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaskFileError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    except OSError as exc:
        raise TaskFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    # libyaml when present: linear time, and a depth limit of its own (the pure-Python parser
    # took minutes on an 800 KB file of nested brackets).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        # Aliases can make a small file expand into a huge tree: task files do not need them.
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=loader)):
            raise TaskFileError(f"{path}: YAML aliases (*name) are not supported; write it out")
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TaskFileError(f"{path}:{line}: not valid YAML/JSON: {problem}") from None
    except RecursionError:
        raise TaskFileError(f"{path}: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise TaskFileError(f"{path}: unusable value ({str(exc)[:200]})") from None
