"""``results.jsonl`` (a line per task as it finishes) and ``summary.json`` (the suite's figures).

results.jsonl is the record a resumed eval starts from: it is only appended to, one whole
line at a time, and a last line cut off by a crash is dropped (and cut from the file) when it
is read again, so the task simply runs again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cradle.errors import UsageError
from cradle.eval.jobs import EvalResult

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
RUNS_DIR = "runs"
"""Beside the results: a run folder per task."""
LOGS_DIR = "logs"
"""Beside the results: a worker log per task."""
MAX_RESULTS_BYTES = 200_000_000


class EvalStorageError(UsageError):
    """The output folder cannot hold the results (unwritable, or not results we wrote)."""


def read_results(path: Path) -> tuple[dict[str, EvalResult], list[str]]:
    """The results by task id (the last line wins) and warnings for lines that were unusable.

    A last line without its newline was being written when the harness stopped: it is cut
    from the file, so the next line appended starts on a line of its own.
    """
    if not path.is_file():
        return {}, []
    try:
        if path.stat().st_size > MAX_RESULTS_BYTES:
            raise EvalStorageError(f"{path} is larger than {MAX_RESULTS_BYTES:,} bytes")
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with open(path, "r+b") as file:
                file.truncate(keep)
            data = data[:keep]
    except OSError as exc:
        raise EvalStorageError(f"cannot read {path}: {exc.strerror or exc}") from None
    results: dict[str, EvalResult] = {}
    warnings: list[str] = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            result = EvalResult.model_validate_json(line)
        except ValidationError:
            warnings.append(f"{path}:{number}: not a result line; its task runs again")
            continue
        results[result.id] = result
    return results, warnings


def append_result(path: Path, result: EvalResult) -> None:
    """Add one line and make it durable (a crash after this keeps the task done)."""
    line = result.model_dump_json() + "\n"
    try:
        with open(path, "a", encoding="utf-8") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        raise EvalStorageError(f"cannot write {path}: {exc.strerror or exc}") from None


def summarize(
    task_ids: Iterable[tuple[str, str]],
    results: dict[str, EvalResult],
    *,
    skipped: Iterable[tuple[str, str]] = (),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """summary.json: the suite's counts and rates, its totals, and rates per environment.

    ``task_ids`` are ``(id, environment)`` of every task in the suite: a task with no result
    yet (the eval was stopped) counts as not passed and is listed under ``not_run``.
    """
    suite = list(task_ids)
    done = [results[tid] for tid, _ in suite if tid in results]
    passed = sum(r.success for r in done)
    per_env: dict[str, dict[str, Any]] = {}
    for tid, env in suite:
        row = per_env.setdefault(env, {"tasks": 0, "passed": 0, "success_rate": 0.0})
        row["tasks"] += 1
        row["passed"] += bool(tid in results and results[tid].success)
    for row in per_env.values():
        row["success_rate"] = round(row["passed"] / row["tasks"], 4)
    return {
        "tasks": len(suite),
        "ran": len(done),
        "passed": passed,
        "failed": len(done) - passed,
        "success_rate": round(passed / len(suite), 4) if suite else 0.0,
        "totals": {
            "steps": sum(r.steps for r in done),
            "model_calls": sum(r.model_calls for r in done),
            "tokens": sum(r.tokens for r in done),
            "cost": round(sum(r.cost for r in done), 6),
            "seconds": round(sum(r.seconds for r in done), 3),
        },
        "environments": dict(sorted(per_env.items())),
        "not_run": [tid for tid, _ in suite if tid not in results],
        "errors": sum(r.error is not None for r in done),
        "skipped": [{"where": where, "reason": reason} for where, reason in skipped],
        **(extra or {}),
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` whole: a temporary file renamed into place, never half a summary."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise EvalStorageError(f"cannot write {path}: {exc.strerror or exc}") from None
