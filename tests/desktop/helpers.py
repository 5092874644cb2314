"""Helpers shared by the desktop tests: the Tk form's command, xdotool, state polling."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

APPS = Path(__file__).parent / "apps"


def tk_command(state: Path, title: str, x: int = 300, y: int = 200) -> str:
    """The launch command of the Tk form (shell-quoted for the ``launch`` option)."""
    return shlex.join(
        [
            sys.executable,
            str(APPS / "tk_form.py"),
            "--state",
            str(state),
            "--title",
            title,
            "--x",
            str(x),
            "--y",
            str(y),
        ]
    )


def xdotool(env: dict[str, str], *args: str) -> str:
    """Run xdotool on the test display; returns stdout."""
    result = subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=10
    )
    return result.stdout.strip()


def read_state(path: Path, until: Any = None, timeout: float = 10.0) -> dict[str, Any]:
    """The Tk form's state; waits until ``until(state)`` is true (or the file exists)."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if path.is_file():
            try:
                state = json.loads(path.read_text())
            except json.JSONDecodeError:
                state = {}
            if state and (until is None or until(state)):
                return state
        time.sleep(0.05)
    return state


def centre(box: list[int]) -> tuple[int, int]:
    """Centre of an (x0, y0, x1, y1) box."""
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
