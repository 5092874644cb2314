"""A virtual X display (tests, benchmarks, `cradle eval` slots): DISPLAY if it answers, else Xvfb.

An empty X authority file is created and exported with it, because python-xlib (under
pyautogui) refuses to connect without one, even to an Xvfb that uses no authentication.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cradle.errors import EnvironmentFailure
from cradle.processes import stop_process

RACE_ATTEMPTS = 5


def display_answers(display: str, env: dict[str, str]) -> bool:
    """Whether an X server answers on ``display`` (xdpyinfo, from Debian's x11-utils)."""
    if not shutil.which("xdpyinfo"):
        raise EnvironmentFailure("xdpyinfo is missing: apt-get install x11-utils")
    result = subprocess.run(
        ["xdpyinfo", "-display", display], capture_output=True, env=env, timeout=10
    )
    return result.returncode == 0


def free_display(numbers: range) -> int:
    """A display number with no lock file or socket (another server would own it)."""
    for number in numbers:
        if (
            not Path(f"/tmp/.X{number}-lock").exists()
            and not Path(f"/tmp/.X11-unix/X{number}").exists()
        ):
            return number
    raise EnvironmentFailure(f"no free X display number in :{numbers.start}-:{numbers.stop - 1}")


@contextmanager
def virtual_display(
    size: tuple[int, int], *, numbers: range = range(90, 190), reuse: bool = True
) -> Iterator[dict[str, str]]:
    """``DISPLAY`` and ``XAUTHORITY`` of a working display of ``size`` while the block runs."""
    with tempfile.TemporaryDirectory(prefix="cradle-x-") as home:
        xauth = os.environ.get("XAUTHORITY") or str(Path(home) / "Xauthority")
        Path(xauth).touch()
        env = {**os.environ, "XAUTHORITY": xauth}
        existing = os.environ.get("DISPLAY")
        if reuse and existing and display_answers(existing, env):
            yield {"DISPLAY": existing, "XAUTHORITY": xauth}
            return
        binary = shutil.which("Xvfb")
        if not binary:
            raise EnvironmentFailure("Xvfb is not installed: apt-get install xvfb")
        proc, name = _start_xvfb(binary, size, numbers, env, Path(home) / "xvfb.log")
        try:
            yield {"DISPLAY": name, "XAUTHORITY": xauth}
        finally:
            stop_process(proc, timeout=5)


def _owns(number: int, pid: int) -> bool:
    """Whether the X server holding display ``number`` is process ``pid``: its lock file
    names the owner. An Xvfb that lost the race for the number still runs for a moment while
    the winner answers on the display, so an answer alone does not say whose it is."""
    try:
        text = Path(f"/tmp/.X{number}-lock").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True  # no lock file to read (not Linux/X.Org): trust the answer
    return text.strip() == str(pid)


def _start_xvfb(
    binary: str, size: tuple[int, int], numbers: range, env: dict[str, str], log_path: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """A running Xvfb and its display name. Several processes may pick the same free number
    at once (``cradle eval`` slots, parallel test runs): the loser moves on to the next."""
    start = numbers.start
    for _ in range(RACE_ATTEMPTS):
        number = free_display(range(start, numbers.stop))
        name = f":{number}"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                # -noreset: without it the server resets when its last client leaves, and a
                # client connecting during the reset is refused ("Can't open display").
                [
                    binary,
                    name,
                    "-screen",
                    "0",
                    f"{size[0]}x{size[1]}x24",
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            for _ in range(100):
                if proc.poll() is not None or display_answers(name, env):
                    break
                time.sleep(0.1)
            else:
                raise EnvironmentFailure(f"Xvfb {name} did not answer within 10 s")
        except BaseException:
            stop_process(proc, timeout=5)
            raise
        if proc.poll() is None and _owns(number, proc.pid):
            return proc, name
        if proc.poll() is None:  # another server took the number first and answered for it
            stop_process(proc, timeout=5)
            start = number + 1
            continue
        tail = log_path.read_text(errors="replace")[-500:]
        if "already active" not in tail:
            raise EnvironmentFailure(f"Xvfb {name} exited: {tail}")
        start = number + 1
    raise EnvironmentFailure(f"Xvfb: {RACE_ATTEMPTS} display numbers were taken while starting")
