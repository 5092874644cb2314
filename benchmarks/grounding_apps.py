"""The apps the grounding benchmark opens, and how each is started, waited for and stopped.

Each app runs alone in a private D-Bus session (``cradle.screen.dbus_session``) on the
benchmark's display, with its home in a scratch folder and the variables under which apps
expose their accessibility tree (``app_accessibility_env``). An app that is not installed, or
whose window does not appear, is an ``EnvironmentFailure`` of one line saying what to install.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cradle.elements.base import Box
from cradle.elements.platform import app_accessibility_env
from cradle.errors import EnvironmentFailure
from cradle.paths import project_dir
from cradle.screen import x11

WINDOW_SECONDS = 40.0
"""Chromium on a loaded 2-core machine can take 15 s to show its first window."""
SYSTEM_PYTHON = "/usr/bin/python3"


@dataclass(frozen=True)
class Widget:
    """A target: something the app itself says can be acted on, box in screen pixels."""

    role: str
    name: str
    box: Box

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True)
class App:
    """One app of the benchmark."""

    name: str
    title: str
    """Window title (xdotool regex)."""
    needs: tuple[tuple[str, str], ...]
    """(executable, Debian package) pairs that must be installed."""
    start: Callable[[Path], list[subprocess.Popen[bytes]]]
    """Starts the app with its home in the given folder; the processes to stop afterwards."""
    tree: bool = True
    """False: the app exposes no accessibility tree; targets come from ``widgets``."""
    widgets: Callable[[Path], list[Widget]] | None = None

    def check(self) -> None:
        """One-line ``EnvironmentFailure`` naming the first missing executable's package."""
        for executable, package in self.needs:
            if not (shutil.which(executable) or Path(executable).is_file()):
                raise EnvironmentFailure(
                    f"the grounding benchmark's {self.name} app needs "
                    f"{executable}: apt-get install {package}"
                )


def _spawn(argv: list[str], home: Path) -> subprocess.Popen[bytes]:
    """``argv`` in a process group of its own, home in ``home``, tree exposed."""
    env = {**os.environ, **app_accessibility_env(os.environ), "HOME": str(home)}
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
        cwd=home,
    )


def _apps_dir() -> Path:
    return project_dir() / "tests" / "desktop" / "apps"


def _start_mousepad(home: Path) -> list[subprocess.Popen[bytes]]:
    return [_spawn(["mousepad", "--disable-server"], home)]


def _start_galculator(home: Path) -> list[subprocess.Popen[bytes]]:
    return [_spawn(["galculator"], home)]


def _start_gtk(home: Path) -> list[subprocess.Popen[bytes]]:
    argv = [
        SYSTEM_PYTHON,
        str(_apps_dir() / "gtk_icons.py"),
        "--state",
        str(home / "gtk-state.json"),
        "--title",
        "Grounding icons",
        "--x",
        "0",
        "--y",
        "0",
    ]
    return [_spawn(argv, home)]


def _start_tk(home: Path) -> list[subprocess.Popen[bytes]]:
    argv = [
        sys.executable,
        str(_apps_dir() / "tk_form.py"),
        "--state",
        str(home / "tk-state.json"),
        "--title",
        "Grounding Tk form",
        "--x",
        "0",
        "--y",
        "0",
    ]
    return [_spawn(argv, home)]


def _formapp() -> Any:
    path = project_dir() / "environments" / "desktop" / "tasks" / "webapp" / "formapp.py"
    spec = importlib.util.spec_from_file_location("grounding_formapp", path)
    if spec is None or spec.loader is None:
        raise EnvironmentFailure(f"{path} is missing: run from a source checkout")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _start_chromium(home: Path) -> list[subprocess.Popen[bytes]]:
    """The shipped suite's contact form, served locally, in Chromium with page content in
    its tree (``--force-renderer-accessibility``; ``ACCESSIBILITY_ENABLED`` is in the env)."""
    formapp = _formapp()
    server = _spawn([sys.executable, formapp.__file__, "--home", str(home)], home)
    url_file = home / formapp.URL_FILE
    deadline = time.monotonic() + 10
    while not url_file.is_file():
        if server.poll() is not None or time.monotonic() > deadline:
            stop_all([server])
            raise EnvironmentFailure("the local form server did not start within 10 s")
        time.sleep(0.05)
    url = url_file.read_text(encoding="utf-8").strip()
    argv = formapp.browser_command(f"{url}/contact", home)
    if "--force-renderer-accessibility" not in argv:
        argv.append("--force-renderer-accessibility")
    return [server, _spawn(argv, home)]


def _tk_widgets(home: Path) -> list[Widget]:
    """The Tk form's own report of its widgets (its state file): a Tk window has no tree."""
    state = json.loads((home / "tk-state.json").read_text(encoding="utf-8"))
    roles = {
        "entry": ("entry", ""),
        "apply_button": ("push button", "Apply"),
        "count_button": ("push button", "Count"),
    }
    return [
        Widget(role, name, tuple(state["widgets"][key]))  # type: ignore[arg-type]
        for key, (role, name) in roles.items()
    ]


APPS: tuple[App, ...] = (
    App("mousepad", "Mousepad", (("mousepad", "mousepad"),), _start_mousepad),
    App("galculator", "galculator", (("galculator", "galculator"),), _start_galculator),
    App(
        "gtk_icons", "Grounding icons", ((SYSTEM_PYTHON, "python3-gi gir1.2-gtk-3.0"),), _start_gtk
    ),
    App("chromium_form", "Contact us", (("chromium", "chromium"),), _start_chromium),
    App(
        "tk_form",
        "Grounding Tk form",
        ((sys.executable, "python3-tk"),),
        _start_tk,
        tree=False,
        widgets=_tk_widgets,
    ),
)


def app_named(name: str) -> App:
    for app in APPS:
        if app.name == name:
            return app
    raise EnvironmentFailure(
        f"no app {name!r} in the grounding benchmark; apps: " + ", ".join(a.name for a in APPS)
    )


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """End each process group (the app and what it started), newest first."""
    for proc in reversed(processes):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue


@contextmanager
def running(app: App, home: Path) -> Iterator[int]:
    """Start ``app`` (display and session bus already exported) and yield its window id."""
    app.check()
    processes = app.start(home)
    try:
        yield _wait_window(app, processes)
    finally:
        stop_all(processes)


def _wait_window(app: App, processes: list[subprocess.Popen[bytes]]) -> int:
    deadline = time.monotonic() + WINDOW_SECONDS
    while time.monotonic() < deadline:
        found = x11.find_windows(app.title)
        if found:
            return found[-1]
        exited = [p for p in processes if p.poll() is not None]
        if exited:
            raise EnvironmentFailure(
                f"{app.name} exited (code {exited[0].returncode}) before "
                f"its window {app.title!r} appeared"
            )
        time.sleep(0.1)
    raise EnvironmentFailure(
        f"no {app.name} window titled {app.title!r} within {WINDOW_SECONDS:g} s"
    )
