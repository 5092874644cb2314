"""A display for the desktop tests: the one in DISPLAY if it answers, else a private Xvfb.

Desktop tests are never skipped silently: without Xvfb they fail with the package to install.
An empty X authority file is created and exported, because python-xlib (under pyautogui)
refuses to connect without one even to an Xvfb that uses no authentication.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SIZE = (1920, 1080)


def _answers(display: str, env: dict[str, str]) -> bool:
    if not shutil.which("xdpyinfo"):
        pytest.fail("xdpyinfo is missing: apt-get install x11-utils (run tests/run.sh)")
    result = subprocess.run(["xdpyinfo", "-display", display], capture_output=True,
                            env=env, timeout=10)
    return result.returncode == 0


def _free_display() -> int:
    for number in range(90, 190):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(
            f"/tmp/.X11-unix/X{number}"
        ).exists():
            return number
    raise RuntimeError("no free X display number between :90 and :189")


@pytest.fixture(scope="session")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment variables (DISPLAY, XAUTHORITY) of a working 1920x1080 display."""
    home = tmp_path_factory.mktemp("xauth")
    xauth = os.environ.get("XAUTHORITY") or str(home / "Xauthority")
    Path(xauth).touch()
    env = {**os.environ, "XAUTHORITY": xauth}
    existing = os.environ.get("DISPLAY")
    if existing and _answers(existing, env):
        yield {"DISPLAY": existing, "XAUTHORITY": xauth}
        return
    binary = shutil.which("Xvfb")
    if not binary:
        pytest.fail("Xvfb is not installed: apt-get install xvfb (or run tests/run.sh)")
    number = _free_display()
    name = f":{number}"
    log = open(home / "xvfb.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [binary, name, "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24", "-nolisten", "tcp"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            if proc.poll() is not None:
                break
            if _answers(name, env):
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"Xvfb {name} did not answer within 10 s")
        if proc.poll() is not None:
            pytest.fail(f"Xvfb {name} exited: {(home / 'xvfb.log').read_text()[-500:]}")
        yield {"DISPLAY": name, "XAUTHORITY": xauth}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def desktop_env(display: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The display exported to this process (for in-process tests), without CRADLE_DESKTOP_*."""
    for key, value in display.items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith("CRADLE_DESKTOP_"):
            monkeypatch.delenv(key)
    return display
