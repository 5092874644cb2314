"""Helpers for the eval tests: a small mocked suite written as task files, and `cradle eval`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

RESULT_KEYS = {
    "id",
    "success",
    "checks",
    "steps",
    "model_calls",
    "tokens",
    "cost",
    "seconds",
    "run_dir",
    "error",
    "environment",
    "node",
}
SUMMARY_KEYS = {"tasks", "passed", "success_rate", "totals", "environments", "skipped"}

SAVE_HELLO: dict[str, Any] = {
    "id": "notepad-save-hello",
    "instruction": "Type 'hello' in Notepad and save it as note.txt",
    "environment": "mock-notepad",
    "check": [{"state": {"files": {"note.txt": "hello"}}}],
    "max_steps": 5,
    "timeout": 60,
    "reference": [
        ["type_text(text='hello')", "hotkey('ctrl', 's')"],
        ["type_text(text='note.txt')", "press_key(key='enter')"],
    ],
}
REPLACE_DRAFT: dict[str, Any] = {
    "id": "notepad-replace-draft",
    "instruction": "Replace the text with 'final' (no need to save)",
    "environment": "mock-notepad",
    "env_options": {"text": "draft"},
    "check": [{"state": {"text": "final"}}],
    "max_steps": 5,
    "timeout": 60,
    "reference": [["hotkey('ctrl', 'a')", "type_text(text='final')"]],
}
ADD: dict[str, Any] = {
    "id": "calculator-add",
    "instruction": "Compute 12 + 30 on the calculator",
    "environment": "mock-calculator",
    "check": [{"state": {"display": "42"}}],
    "max_steps": 5,
    "timeout": 60,
    "reference": [["type_text(text='12+30=')"]],
}
SUITE = [SAVE_HELLO, REPLACE_DRAFT, ADD]

# Crashes its first attempt: the setup step kills the worker process (its parent); the flag
# beside the task file makes the second attempt go through.
CRASH_ONCE: dict[str, Any] = {
    "id": "calculator-crash-once",
    "instruction": "Compute 2 + 2 on the calculator",
    "environment": "mock-calculator",
    "setup": [
        {
            "run": 'test -e "$CRADLE_TASK_DIR/crashed-once" || '
            '{ touch "$CRADLE_TASK_DIR/crashed-once"; kill -9 $PPID; }'
        }
    ],
    "check": [{"state": {"display": "4"}}],
    "max_steps": 5,
    "timeout": 60,
    "reference": [["type_text(text='2+2=')"]],
}


def write_suite(folder: Path, tasks: list[dict[str, Any]] | None = None) -> Path:
    """Task files in ``folder``: the notepad tasks in one file (a list), the others alone."""
    folder.mkdir(parents=True, exist_ok=True)
    tasks = json.loads(json.dumps(SUITE if tasks is None else tasks))  # no shared objects:
    # YAML would write them as aliases, which task files refuse
    notepad = [t for t in tasks if t["environment"] == "mock-notepad"]
    if notepad:
        (folder / "notepad.yaml").write_text(yaml.safe_dump(notepad, sort_keys=False))
    for task in tasks:
        if task["environment"] != "mock-notepad":
            (folder / f"{task['id']}.yaml").write_text(yaml.safe_dump(task, sort_keys=False))
    return folder


def cradle_eval(
    *args: str | Path, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``cradle eval ARGS`` in a new process (as a user or CI runs it)."""
    full = {**os.environ, **(env or {})}
    full.pop("OPENAI_BASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cradle", "eval", *map(str, args)],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def results(out: Path) -> dict[str, dict[str, Any]]:
    """results.jsonl by task id (each id must appear once)."""
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert len(by_id) == len(lines), "a task was recorded twice"
    return by_id


def summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text())
