"""desktop: the real screen, keyboard and mouse (mss + pyautogui), optionally one app window.

Options (keyword arguments, ``--env-option key=value``, or environment variables; an option
given explicitly wins over its variable):

==================  ==========================  ===============================================
option              variable                    meaning
==================  ==========================  ===============================================
``monitor``         ``CRADLE_DESKTOP_MONITOR``  mss monitor index: 1 = first (default), 0 = all
``launch``          ``CRADLE_DESKTOP_LAUNCH``   command started by ``start()`` (no shell),
                                                terminated by ``close()``
``window_title``    ``CRADLE_DESKTOP_WINDOW``   title (regex) of the app window to wait for,
                                                focus and keep focused (X11, via xdotool)
``crop``            ``CRADLE_DESKTOP_CROP``     crop captures to that window (default true)
``window_timeout``  ``CRADLE_DESKTOP_TIMEOUT``  seconds to wait for the window (default 15)
``pause``           ``CRADLE_DESKTOP_PAUSE``    pyautogui.PAUSE after each input (default 0)
``marks``           ``CRADLE_DESKTOP_MARKS``    set-of-mark boxes on the model image (true)
``ocr``             ``CRADLE_DESKTOP_OCR``      read screen text each changed step (true when
                                                tesseract is installed)
``accessibility``   ``CRADLE_DESKTOP_``         read the apps' accessibility tree (AT-SPI on
                    ``ACCESSIBILITY``           Linux) for elements, names and actions (true)
``stop_hotkey``     ``CRADLE_DESKTOP_STOP_``    global chord that stops the run like Ctrl+C
                    ``HOTKEY``                  (default ``<ctrl>+<shift>+<f12>``; ``none``
                                                turns it off); see cradle/screen/stop.py
==================  ==========================  ===============================================
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from cradle.elements.accessibility import AccessibilityProvider
from cradle.elements.platform import app_accessibility_env
from cradle.environment import Environment
from cradle.errors import ConfigError, EnvironmentFailure
from cradle.perception import Perceiver
from cradle.screen import x11
from cradle.screen.desktop import DesktopScreen, check_display, is_x11
from cradle.screen.stop import StopHotkey

from .focus import FocusKeeper
from .options import HELP as OPTION_HELP
from .options import DesktopOptions, resolve_options


class DesktopEnvironment(Environment):
    """The real desktop; see the module docstring for options."""

    name = "desktop"
    option_help = OPTION_HELP
    description = (
        "The real desktop (mss + pyautogui); can launch one app and keep its window focused. "
        "Needs a display (or Xvfb)."
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.settings: DesktopOptions = resolve_options(self.options)
        self.screen: DesktopScreen | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.keeper: FocusKeeper | None = None
        self.stopper: StopHotkey | None = None
        self._exit_reported = False
        self.accessibility: AccessibilityProvider | None = None
        self._tree_reported = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> DesktopScreen:
        s = self.settings
        check_display()
        if s.window_title and not is_x11():
            raise ConfigError("window_title needs X11 (xdotool); on Windows/macOS use monitor")
        if s.launch:
            self.process = self._launch(s.launch)
        window: int | None = None
        if s.window_title:
            window = self._wait_for_window(s.window_title, s.window_timeout)
            pids = {self.process.pid} if self.process else set()
            self.keeper = FocusKeeper(window, s.window_title, pids)
            self.keeper.focus_now()
        self.screen = DesktopScreen(
            monitor=s.monitor,
            window=window if s.crop else None,
            pause=s.pause,
        )
        if s.stop_hotkey:
            self.stopper = StopHotkey(s.stop_hotkey)
            problem = self.stopper.start()
            if problem:
                self.stopper = None
                print(f"cradle: warning: {problem}; stop with Ctrl+C", file=sys.stderr)
        return self.screen

    def _launch(self, command: str) -> subprocess.Popen[bytes]:
        argv = shlex.split(command)
        if not argv:
            raise ConfigError("launch is empty; give a command such as 'xterm -title T'")
        base = dict(self.place.env if self.place is not None else os.environ)
        try:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                # A task's episode has a home of its own: the app's files go there.
                env={**base, **app_accessibility_env(base)},
            )
        except OSError as exc:
            raise EnvironmentFailure(f"cannot launch {command!r}: {exc.strerror or exc}") from None

    def _wait_for_window(self, title: str, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            found = x11.find_windows(title)
            if found:
                return found[-1]
            if self.process is not None and self.process.poll() is not None:
                raise EnvironmentFailure(
                    f"the launched app exited (code {self.process.returncode}) before a window "
                    f"titled {title!r} appeared"
                )
            if time.monotonic() > deadline:
                raise EnvironmentFailure(
                    f"no window titled {title!r} appeared within {timeout:g} s "
                    "(check the launch command and the title; `xdotool search --name` lists them)"
                )
            time.sleep(0.1)

    def focus_keeper(self) -> Callable[[], object] | None:
        """The app window's focus check (with ``window_title``), run before input."""
        return self.keeper.ensure if self.keeper is not None else None

    def notes(self) -> list[str]:
        """Focus moves (refocused before acting) and an app that exited, for the model."""
        notes: list[str] = []
        if self.keeper is not None:
            self.keeper.ensure()
            notes.extend(self.keeper.drain())
        tree = self.accessibility
        if tree is not None and tree.unavailable and not self._tree_reported:
            self._tree_reported = True
            notes.append(
                f"accessibility tree unavailable ({tree.unavailable}); "
                "elements come from OCR and contours only"
            )
        if self.process is not None and not self._exit_reported:
            code = self.process.poll()
            if code is not None:
                self._exit_reported = True
                notes.append(f"the launched app has exited (code {code})")
        return notes

    def perceiver(self, *, marks: bool = True) -> Perceiver | None:
        """Marks (unless ``marks`` is False), OCR and the accessibility tree as the options
        say (None when all are off)."""
        from cradle.vision.perceiver import VisionPerceiver

        s = self.settings
        if self.accessibility is None and s.accessibility:
            from cradle.elements.platform import default_reader

            reader = default_reader()
            self.accessibility = AccessibilityProvider(reader) if reader is not None else None
        if not (s.marks or s.ocr or self.accessibility):
            return None
        return VisionPerceiver(marks=s.marks and marks, ocr=s.ocr, accessibility=self.accessibility)

    def close(self) -> None:
        if self.stopper is not None:
            self.stopper.stop()
            self.stopper = None
        if self.accessibility is not None:
            self.accessibility.close()
            self.accessibility = None
        if self.screen is not None:
            self.screen.close()
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=3)

    def state(self) -> dict[str, Any]:
        geometry = self.screen.geometry if self.screen else None
        return {
            "monitor": self.settings.monitor,
            "window_title": self.settings.window_title,
            "geometry": None
            if geometry is None
            else {
                "capture_size": list(geometry.capture_size),
                "origin": list(geometry.origin),
                "scale": geometry.scale,
            },
        }


environment = DesktopEnvironment
