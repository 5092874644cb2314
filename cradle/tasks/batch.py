"""A batch of bare instructions (a text file, one per line) as tasks for ``cradle eval``'s
harness: ``cradle run --env ENV --tasks-file FILE`` runs a fleet of agents through the same
pool, locally or on Ray, as a suite is evaluated.

An instruction brings no checks, so its task has ``check: []``: it passes when the model
declares it done, which is the model's claim and nothing more (task files cannot do this:
the loader requires a check). Task ids are ``line-NNNN``, the instruction's line number, so
each run folder points back at its line and ``--resume`` recognises what finished.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cradle.tasks.loader import MAX_FILE_BYTES, MAX_TASKS, TaskFileError
from cradle.tasks.validation import validation_problem
from cradle.types import Task


def instruction_tasks(
    path: Path,
    *,
    environment: str,
    env_options: dict[str, Any],
    max_steps: int,
    timeout: float | None,
) -> list[Task]:
    """One unchecked task per non-empty line of ``path`` (``#`` starts a comment line)."""
    tasks: list[Task] = []
    fields: dict[str, Any] = {
        "environment": environment,
        "env_options": env_options,
        "check": [],
        "max_steps": max_steps,
        "source": str(path),
    }
    if timeout is not None:
        fields["timeout"] = timeout
    for number, line in enumerate(_read(path).splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if len(tasks) == MAX_TASKS:
            raise TaskFileError(f"{path}: more than {MAX_TASKS} instructions; split the file")
        try:
            tasks.append(Task(id=f"line-{number:04d}", instruction=text, **fields))
        except ValidationError as exc:
            raise TaskFileError(f"{path}:{number}: {validation_problem(exc)}") from None
    if not tasks:
        raise TaskFileError(
            f"{path}: no instruction in it; write one per line (# starts a comment)"
        )
    return tasks


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TaskFileError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; split it")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaskFileError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    except OSError as exc:
        raise TaskFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
