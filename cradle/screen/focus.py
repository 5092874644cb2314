"""Keeping the app's window focused before input reaches it.

Keys go wherever keyboard focus is; an environment that keeps one app's window focused (the
desktop's, via xdotool) gives a ``keep_focus`` check, and this wrapper runs it before input,
at most once per :data:`FOCUS_CHECK_SECONDS` while input flows (each check costs an xdotool
call). What the check found is the environment's to tell the model (its ``notes``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cradle.screen.base import MouseButton, Screen
from cradle.screen.wrapper import ScreenWrapper

FOCUS_CHECK_SECONDS = 0.3
"""At most one focus check per this interval while input flows."""


class FocusKeepingScreen(ScreenWrapper):
    """Runs ``keep_focus`` before input (rate-limited), then passes the input on."""

    def __init__(self, inner: Screen, keep_focus: Callable[[], object]) -> None:
        super().__init__(inner)
        self.keep_focus = keep_focus
        self._last_check = 0.0

    def _guard(self) -> None:
        now = time.monotonic()
        if now - self._last_check >= FOCUS_CHECK_SECONDS:
            self._last_check = now
            self.keep_focus()

    def click(self, x: int, y: int, *, button: MouseButton = "left", clicks: int = 1) -> None:
        self._guard()
        self.inner.click(x, y, button=button, clicks=clicks)

    def move(self, x: int, y: int) -> None:
        self._guard()
        self.inner.move(x, y)

    def drag(self, x1: int, y1: int, x2: int, y2: int, *, button: MouseButton = "left") -> None:
        self._guard()
        self.inner.drag(x1, y1, x2, y2, button=button)

    def scroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        self._guard()
        self.inner.scroll(amount, x, y)

    def type_text(self, text: str) -> None:
        self._guard()
        self.inner.type_text(text)

    def press(self, key: str) -> None:
        self._guard()
        self.inner.press(key)

    def hotkey(self, *keys: str) -> None:
        self._guard()
        self.inner.hotkey(*keys)

    def mouse_down(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        self._guard()
        self.inner.mouse_down(x, y, button=button)

    def mouse_up(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        self._guard()
        self.inner.mouse_up(x, y, button=button)

    def key_down(self, key: str) -> None:
        self._guard()
        self.inner.key_down(key)

    def key_up(self, key: str) -> None:
        self._guard()
        self.inner.key_up(key)

    def hscroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        self._guard()
        self.inner.hscroll(amount, x, y)
