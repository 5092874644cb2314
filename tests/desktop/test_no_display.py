"""With no display, the desktop environment fails with one line and exit 5 (no Xvfb needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cradle.errors import EnvironmentFailure
from cradle.screen.desktop import NO_XAUTH, explain_display_error


def test_no_display_is_one_line_and_environment_exit(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "OPENAI_BASE_URL")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "run",
            "--env",
            "desktop",
            "--task",
            "x",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 5, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "no display: set DISPLAY or start Xvfb" in output
    assert "Traceback" not in output


def test_import_cradle_and_envs_need_no_display() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    code = (
        "import cradle, cradle.screen.desktop, cradle.vision.perceiver, sys; "
        "assert 'pyautogui' not in sys.modules and 'mss' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    result = subprocess.run(
        [sys.executable, "-m", "cradle", "envs"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "desktop" in result.stdout


def test_display_errors_become_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    class XauthError(Exception):
        pass

    class DisplayConnectionError(Exception):
        pass

    assert "no display" in str(explain_display_error(KeyError("DISPLAY")))
    assert str(explain_display_error(XauthError("~/.Xauthority: No such file"))) == NO_XAUTH
    monkeypatch.setenv("DISPLAY", ":42")
    dead = explain_display_error(DisplayConnectionError('Can\'t connect to display ":42"'))
    assert "cannot connect to display ':42'" in str(dead)
    assert all(isinstance(e, EnvironmentFailure) for e in (dead,))


def test_desktop_start_without_display_raises_environment_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cradle.environment import load_environment

    monkeypatch.delenv("DISPLAY", raising=False)
    env = load_environment("desktop")
    with pytest.raises(EnvironmentFailure, match="no display"):
        env.start()
