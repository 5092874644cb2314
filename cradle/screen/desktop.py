"""The real desktop: pixels from ``mss``, keyboard and mouse from ``pyautogui``.

Both libraries are imported when a screen is opened, never at ``import cradle``: pyautogui
connects to the display while importing and fails with ``KeyError: 'DISPLAY'`` (no display),
``Xlib.error.DisplayConnectionError`` (dead X server) or ``Xlib.error.XauthError`` (no
``~/.Xauthority``). Each becomes one ``EnvironmentFailure`` line saying what to do.

Coordinates and HiDPI, per platform (one ``ScreenGeometry``, then ``CoordinateMap`` does all):

* **Linux/X11** (tested): mss and pyautogui both use X pixels: scale 1. The origin is the
  monitor's (or window's) left/top in the root window; negative for a monitor left of or above
  the primary one.
* **macOS**: mss monitors are in points but grabs are in pixels (2x on Retina); pyautogui
  takes points. The scale is measured on every capture as captured pixels / region points,
  so a Retina display gives 2.0 with no configuration. Grant the terminal Screen Recording
  and Accessibility permissions.
* **Windows**: mss makes the process per-monitor DPI-aware, so capture and pyautogui both
  use physical pixels and the scale is 1. A process that is *not* DPI-aware sees scaled
  coordinates (e.g. 1.25 at 125%); the measured ratio covers that case too.

Stopping at once: pyautogui's fail-safe stays on; moving the mouse into a screen corner makes
the next input call raise ``FailSafeException``, turned into ``RunInterrupted`` (exit 130).
``release_all`` lifts every modifier and mouse button when a run stops for any reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

from PIL import Image

from cradle.errors import EnvironmentFailure, RunInterrupted
from cradle.screen import x11
from cradle.screen.base import MouseButton, Screen, ScreenGeometry

NO_DISPLAY = "no display: set DISPLAY or start Xvfb (e.g. `Xvfb :99 &` then `export DISPLAY=:99`)"
NO_XAUTH = (
    "cannot authenticate to the X display: the X authority file is missing "
    "(run `touch ~/.Xauthority` or set XAUTHORITY to an existing file)"
)
MODIFIERS = (
    "shift",
    "shiftleft",
    "shiftright",
    "ctrl",
    "ctrlleft",
    "ctrlright",
    "alt",
    "altleft",
    "altright",
    "winleft",
    "winright",
    "command",
    "option",
    "fn",
)
BUTTONS: tuple[MouseButton, ...] = ("left", "right", "middle")
PLAIN_TEXT = re.compile(r"[A-Za-z0-9 \n]*")
"""Text pyautogui types right on X11 (quickly, with no delay between keys)."""


def is_x11() -> bool:
    return sys.platform.startswith(("linux", "freebsd", "openbsd"))


def check_display() -> None:
    """Fail with one line when there is obviously no display to connect to (X11 only)."""
    if is_x11() and not os.environ.get("DISPLAY"):
        raise EnvironmentFailure(NO_DISPLAY)


def explain_display_error(exc: BaseException) -> EnvironmentFailure:
    """The one-line failure for an error raised while connecting to the display."""
    name = type(exc).__name__
    if isinstance(exc, KeyError) and "DISPLAY" in str(exc):
        return EnvironmentFailure(NO_DISPLAY)
    if name == "XauthError" or "Xauthority" in str(exc):
        return EnvironmentFailure(NO_XAUTH)
    if name in ("DisplayConnectionError", "DisplayNameError", "ConnectionClosedError"):
        display = os.environ.get("DISPLAY", "")
        return EnvironmentFailure(
            f"cannot connect to display {display!r}: is the X server (or Xvfb) running? "
            f"({str(exc).strip() or name})"
        )
    return EnvironmentFailure(f"cannot use the display: {name}: {str(exc).strip()}")


def import_pyautogui(pause: float = 0.0) -> Any:
    """pyautogui, imported now, with ``PAUSE`` set and ``FAILSAFE`` kept on."""
    check_display()
    try:
        import pyautogui
    except Exception as exc:  # noqa: BLE001 - every import failure is a display problem
        raise explain_display_error(exc) from None
    pyautogui.PAUSE = float(pause)
    pyautogui.FAILSAFE = True
    return pyautogui


def open_mss() -> Any:
    """One mss instance for the life of the screen (a new one per grab costs ~10 ms)."""
    check_display()
    try:
        import mss
    except ImportError as exc:
        raise EnvironmentFailure(f"mss is not installed: pip install mss ({exc})") from None
    factory = getattr(mss, "MSS", None) or mss.mss
    try:
        return factory()
    except Exception as exc:  # noqa: BLE001 - mss raises ScreenShotError and Xlib errors
        raise explain_display_error(exc) from None


class DesktopScreen(Screen):
    """One monitor, or one window on it, of the real desktop.

    ``monitor`` indexes ``mss.monitors`` (0 is all monitors together, 1 the first). With
    ``window`` (an X window id), captures are cropped to that window and its position is
    re-read on every capture, so a moved window is still mapped right (keeping the app's
    window focused is a wrapper: :mod:`cradle.screen.focus`).
    """

    def __init__(
        self,
        *,
        monitor: int = 1,
        window: int | None = None,
        pause: float = 0.0,
    ) -> None:
        self._gui = import_pyautogui(pause)
        self._mss = open_mss()
        monitors = self._mss.monitors
        if not 0 <= monitor < len(monitors):
            self._mss.close()
            raise EnvironmentFailure(
                f"monitor {monitor} does not exist; this display has monitors "
                f"0..{len(monitors) - 1} (0 = all together)"
            )
        self.monitor = monitor
        self.window = window
        self._geometry: ScreenGeometry | None = None
        self._held: set[str] = set()
        """Keys pressed by ``key_down`` and not released: ``release_all`` lifts them too."""

    # ------------------------------------------------------------------ pixels

    def region(self) -> dict[str, int]:
        """The captured area in input coordinates (mss's left/top/width/height)."""
        if self.window is None:
            m = self._mss.monitors[self.monitor]
            return {"left": m["left"], "top": m["top"], "width": m["width"], "height": m["height"]}
        found = x11.geometry(self.window)
        if found is None:
            raise EnvironmentFailure(f"window {self.window} is gone (the app closed or crashed)")
        # Clip to the virtual screen: mss cannot grab outside it.
        v = self._mss.monitors[0]
        left, top = max(found.left, v["left"]), max(found.top, v["top"])
        right = min(found.left + found.width, v["left"] + v["width"])
        bottom = min(found.top + found.height, v["top"] + v["height"])
        if right <= left or bottom <= top:
            raise EnvironmentFailure(f"window {self.window} is entirely off screen")
        return {"left": left, "top": top, "width": right - left, "height": bottom - top}

    def capture(self) -> Image.Image:
        region = self.region()
        try:
            shot = self._mss.grab(region)
        except Exception as exc:  # noqa: BLE001 - a dead display mid-run
            raise explain_display_error(exc) from None
        width, height = shot.size
        self._geometry = ScreenGeometry(
            capture_size=(width, height),
            origin=(region["left"], region["top"]),
            scale=width / region["width"] if region["width"] else 1.0,
        )
        return Image.frombytes("RGB", (width, height), shot.bgra, "raw", "BGRX")

    @property
    def geometry(self) -> ScreenGeometry:
        """Geometry of the last capture (so a model image and its mapping always agree)."""
        if self._geometry is None:
            region = self.region()
            self._geometry = ScreenGeometry(
                (region["width"], region["height"]), (region["left"], region["top"]), 1.0
            )
        return self._geometry

    # ------------------------------------------------------------------ input

    @contextlib.contextmanager
    def _input(self) -> Iterator[Any]:
        try:
            yield self._gui
        except self._gui.FailSafeException:
            self.release_all()
            raise RunInterrupted(
                "stopped by the fail-safe: the mouse was moved into a screen corner"
            ) from None

    def click(self, x: int, y: int, *, button: MouseButton = "left", clicks: int = 1) -> None:
        with self._input() as gui:
            gui.click(x, y, clicks=clicks, interval=0.05 if clicks > 1 else 0.0, button=button)

    def move(self, x: int, y: int) -> None:
        with self._input() as gui:
            gui.moveTo(x, y)

    def drag(self, x1: int, y1: int, x2: int, y2: int, *, button: MouseButton = "left") -> None:
        with self._input() as gui:
            gui.moveTo(x1, y1)
            gui.mouseDown(button=button)
            try:
                # Intermediate motion: many toolkits ignore a press/release with no movement.
                gui.moveTo(x2, y2, duration=0.15)
            finally:
                gui.mouseUp(button=button)

    def scroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        with self._input() as gui:
            gui.scroll(amount, x=x, y=y)

    def type_text(self, text: str) -> None:
        """Letters, digits and spaces through pyautogui; other text through ``xdotool type``
        on X11.

        pyautogui maps characters to US-layout key codes and silently drops the rest on X11,
        so "café" would arrive as "caf"; it also gets some ASCII wrong (measured under Xvfb:
        "<" arrives as ">", and galculator ignores its "(" and ")"). xdotool types any text
        with the display's own keymap (a temporary one for missing characters).
        """
        with self._input() as gui:
            if is_x11() and not PLAIN_TEXT.fullmatch(text):
                x11.type_text(text)
            else:
                gui.write(text, interval=0.0)

    def press(self, key: str) -> None:
        with self._input() as gui:
            gui.press(key)

    def hotkey(self, *keys: str) -> None:
        with self._input() as gui:
            gui.hotkey(*keys, interval=0.0)

    def mouse_down(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        with self._input() as gui:
            gui.mouseDown(x=x, y=y, button=button)

    def mouse_up(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        with self._input() as gui:
            gui.mouseUp(x=x, y=y, button=button)

    def key_down(self, key: str) -> None:
        with self._input() as gui:
            gui.keyDown(key)
        self._held.add(key)

    def key_up(self, key: str) -> None:
        with self._input() as gui:
            gui.keyUp(key)
        self._held.discard(key)

    def hscroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        with self._input() as gui:
            gui.hscroll(amount, x=x, y=y)

    def release_all(self) -> None:
        """Lift every modifier and button; errors are ignored (the display may be gone)."""
        gui = self._gui
        saved = gui.FAILSAFE
        gui.FAILSAFE = False  # releasing must work with the mouse in a corner
        try:
            for key in (*MODIFIERS, *sorted(self._held)):
                with contextlib.suppress(Exception):
                    gui.keyUp(key)
            self._held.clear()
            for button in BUTTONS:
                with contextlib.suppress(Exception):
                    gui.mouseUp(button=button)
        finally:
            gui.FAILSAFE = saved

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._mss.close()
