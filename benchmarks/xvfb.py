"""A display for the desktop benchmark: DISPLAY if it answers, else a private Xvfb.

Same approach as tests/desktop/conftest.py: an empty X authority file is exported, because
python-xlib refuses to connect without one even to an Xvfb that uses no authentication.
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


def _answers(display: str, env: dict[str, str]) -> bool:
    if not shutil.which("xdpyinfo"):
        raise RuntimeError("xdpyinfo is missing: apt-get install x11-utils")
    done = subprocess.run(["xdpyinfo", "-display", display], capture_output=True, env=env,
                          timeout=10)
    return done.returncode == 0


def _free_display() -> int:
    for number in range(190, 290):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(
                f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number between :190 and :289")


@contextmanager
def display(size: tuple[int, int]) -> Iterator[dict[str, str]]:
    """DISPLAY and XAUTHORITY of a working display of ``size`` (a new Xvfb if needed)."""
    with tempfile.TemporaryDirectory(prefix="cradle-bench-x-") as home:
        xauth = os.environ.get("XAUTHORITY") or str(Path(home) / "Xauthority")
        Path(xauth).touch()
        env = {**os.environ, "XAUTHORITY": xauth}
        existing = os.environ.get("DISPLAY")
        if existing and _answers(existing, env):
            yield {"DISPLAY": existing, "XAUTHORITY": xauth}
            return
        binary = shutil.which("Xvfb")
        if not binary:
            raise RuntimeError("Xvfb is not installed: apt-get install xvfb")
        name = f":{_free_display()}"
        proc = subprocess.Popen(
            [binary, name, "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                if proc.poll() is not None or _answers(name, env):
                    break
                time.sleep(0.1)
            if proc.poll() is not None:
                raise RuntimeError(f"Xvfb {name} exited with {proc.returncode}")
            yield {"DISPLAY": name, "XAUTHORITY": xauth}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
