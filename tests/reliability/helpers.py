"""Shared pieces of the reliability tests: fused replies, `cradle run` as a process, run checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API_KEY = "sk-cradle-reliability-ZQX7-do-not-leak-93ab"
"""A distinctive fake key: finding it anywhere in a run's output is a leak."""

FILLER = {
    "information_gathering": {
        "screen_description": "A notepad.",
        "visible_text": [],
        "elements": [],
    },
    "self_reflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
    "task_inference": {"subtask": "next", "reasoning": "script"},
    "skill_curation": {"relevant_skills": [], "new_skills": []},
}


def fused(actions: Sequence[str], done: bool = False) -> dict[str, Any]:
    """One FusedStep reply planning ``actions``."""
    return {
        **FILLER,
        "action_planning": {"reasoning": "scripted", "actions": list(actions), "done": done},
    }


class Plans:
    """Fused replies: request n gets ``plans[n-1]``; after the last, ``done``."""

    def __init__(self, *plans: Sequence[str], never_done: bool = False) -> None:
        self.plans = [list(p) for p in plans]
        self.never_done = never_done
        self.count = 0

    def __call__(self, body: dict) -> dict:
        self.count += 1
        if self.count <= len(self.plans):
            return fused(self.plans[self.count - 1])
        if self.never_done:
            return fused(["move_to(x=5, y=5)"])
        return fused([], done=True)


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    elapsed: float
    runs: Path

    @property
    def run_dir(self) -> Path:
        folders = [p for p in self.runs.iterdir() if p.is_dir()]
        assert len(folders) == 1, folders
        return folders[0]

    def info(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "run.json").read_text())

    def steps(self) -> list[dict[str, Any]]:
        """Every trajectory line, each of which must parse."""
        lines = (self.run_dir / "trajectory.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    def outcomes(self) -> list[dict[str, Any]]:
        return [a for s in self.steps() for a in s["actions"]]


def cradle_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "OPENAI_API_KEY": API_KEY, **(extra or {})}
    env.pop("OPENAI_BASE_URL", None)
    return env


def cradle_run(
    tmp_path: Path,
    base_url: str,
    *args: str,
    env: dict[str, str] | None = None,
    stdin: Any = subprocess.DEVNULL,
    timeout: float = 120,
) -> Finished:
    """``python -m cradle run --env mock-notepad`` against ``base_url``; fused, no memory."""
    runs = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "cradle",
        "run",
        "--env",
        "mock-notepad",
        "--task",
        "Write the note",
        "--base-url",
        base_url,
        "--model",
        "fake-vlm",
        "--no-memory",
        "--runs-dir",
        str(runs),
        "--generated-skills-dir",
        str(tmp_path / "generated"),
        *args,
    ]
    if "--env" in args:  # the caller picks the environment
        at = command.index("--env")
        del command[at : at + 2]
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env=cradle_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=stdin,
    )
    return Finished(
        result.returncode, result.stdout, result.stderr, time.monotonic() - started, runs
    )


def assert_clean_stop(result: Finished, code: int, status: str, reason: str) -> dict[str, Any]:
    """Exit ``code``, one clear final line, no traceback, run folder kept and consistent."""
    assert result.code == code, result.stderr[-3000:]
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    final = [line for line in lines if line.startswith(f"{status} after")]
    assert final and reason.lower() in final[-1].lower(), lines[-5:]
    info = result.info()
    assert info["status"] == status and info["exit_code"] == code
    assert reason.lower() in info["reason"].lower(), info["reason"]
    result.steps()  # every line parses
    return info


def leaks(where: Path | str, needle: str) -> list[str]:
    """Files under ``where`` (or the text itself) that contain ``needle``."""
    if isinstance(where, str):
        return ["<text>"] if needle in where else []
    return [str(p) for p in where.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


Handler = Callable[[dict], Any]
