"""Windows on X11 through ``xdotool``: find by title, geometry, focus, who has focus.

A subprocess per query (~2-5 ms) keeps this free of a second X connection and of python-xlib
details; every call has a short timeout and failures come back as ``None``/``False`` so
callers decide what is fatal. Without a window manager, ``windowactivate`` is unsupported, so
focus uses ``windowfocus --sync`` (and ``windowraise``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from cradle.errors import EnvironmentFailure

TIMEOUT = 5.0


@dataclass(frozen=True)
class WindowGeometry:
    """A window's area in X (input) coordinates."""

    left: int
    top: int
    width: int
    height: int


def xdotool() -> str:
    """Path of xdotool, or a one-line ``EnvironmentFailure`` saying how to install it."""
    found = shutil.which("xdotool")
    if not found:
        raise EnvironmentFailure(
            "windows are found with xdotool, which is not installed (apt-get install xdotool)"
        )
    return found


def _run(*args: str) -> str | None:
    try:
        result = subprocess.run(
            [xdotool(), *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=os.environ.copy(),
        )
    except subprocess.TimeoutExpired:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_windows(title: str) -> list[int]:
    """Visible windows whose title matches ``title`` (a regular expression, as xdotool's)."""
    out = _run("search", "--onlyvisible", "--name", title)
    return [int(w) for w in out.split()] if out else []


def geometry(window: int) -> WindowGeometry | None:
    """Position and size of ``window`` on the root window, or None if it is gone."""
    out = _run("getwindowgeometry", "--shell", str(window))
    if not out:
        return None
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    try:
        return WindowGeometry(
            int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])
        )
    except (KeyError, ValueError):
        return None


def focused_window() -> int | None:
    """The window with keyboard focus, or None (focus on the root or PointerRoot)."""
    out = _run("getwindowfocus", "-f")
    try:
        window = int(out) if out else None
    except ValueError:
        return None
    return window if window and window > 1 else None


def window_name(window: int) -> str:
    """The title of ``window`` (empty when it has none or is gone)."""
    return _run("getwindowname", str(window)) or ""


def window_pid(window: int) -> int | None:
    """The process owning ``window`` (from _NET_WM_PID), when the app sets it."""
    out = _run("getwindowpid", str(window))
    return int(out) if out and out.isdigit() else None


def app_windows(pid: int) -> list[int]:
    """Visible, titled windows of process ``pid`` in X stacking order, the top one last.

    Without a window manager the window mapped last is on top: a dialog the app just opened.
    Untitled windows are left out; tooltips and menus may have a title (GTK names its
    tooltips after the app): :func:`is_popup` tells them apart."""
    out = _run("search", "--all", "--onlyvisible", "--pid", str(pid), "--name", ".")
    return [int(w) for w in out.split()] if out else []


def is_popup(window: int) -> bool:
    """Whether ``window`` is override-redirect (a menu, a tooltip): never given the keyboard.

    True also when it cannot be told (xwininfo missing, window gone): not a dialog to focus."""
    if not shutil.which("xwininfo"):
        return True
    try:
        result = subprocess.run(
            ["xwininfo", "-id", str(window)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=os.environ.copy(),
        )
    except subprocess.TimeoutExpired:
        return True
    return result.returncode != 0 or "Override Redirect State: no" not in result.stdout


def focus(window: int) -> bool:
    """Raise ``window`` and give it the keyboard; True when it has focus afterwards."""
    _run("windowactivate", "--sync", str(window))  # works when a window manager runs
    _run("windowraise", str(window))
    _run("windowfocus", "--sync", str(window))
    return focused_window() == window


def type_text(text: str, delay_ms: int = 12) -> None:
    """Type ``text`` (any Unicode) at the focus; pyautogui cannot type non-ASCII on X11.

    xdotool remaps a spare keycode for characters missing from the keymap; with no delay the
    mapping is reverted before the app (Tk, measured) has read it and the character is lost.
    """
    if _run("type", "--delay", str(delay_ms), "--", text) is None:
        raise EnvironmentFailure("xdotool could not type the text (is the display alive?)")
