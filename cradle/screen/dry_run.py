"""A screen that shows the real pixels but sends no input: for ``--dry-run``.

The whole loop runs against the real screen - capture, perception, the model, parsing and
validation - and every input event is recorded instead of sent, so the plan can be read and
drawn in the report while the desktop stays untouched.
"""

from __future__ import annotations

from typing import Any

from cradle.screen.base import MouseButton, Screen
from cradle.screen.wrapper import ScreenWrapper


class DryRunScreen(ScreenWrapper):
    """Wraps a screen: ``capture`` and ``geometry`` pass through, input is only logged."""

    def __init__(self, inner: Screen) -> None:
        super().__init__(inner)
        self.suppressed: list[tuple[str, tuple[Any, ...]]] = []

    def _log(self, name: str, *args: Any) -> None:
        self.suppressed.append((name, args))

    def click(self, x: int, y: int, *, button: MouseButton = "left", clicks: int = 1) -> None:
        self._log("click", x, y, button, clicks)

    def move(self, x: int, y: int) -> None:
        self._log("move", x, y)

    def drag(self, x1: int, y1: int, x2: int, y2: int, *, button: MouseButton = "left") -> None:
        self._log("drag", x1, y1, x2, y2, button)

    def scroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        self._log("scroll", amount, x, y)

    def type_text(self, text: str) -> None:
        self._log("type_text", len(text))

    def press(self, key: str) -> None:
        self._log("press", key)

    def hotkey(self, *keys: str) -> None:
        self._log("hotkey", *keys)

    def mouse_down(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        self._log("mouse_down", x, y, button)

    def mouse_up(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        self._log("mouse_up", x, y, button)

    def key_down(self, key: str) -> None:
        self._log("key_down", key)

    def key_up(self, key: str) -> None:
        self._log("key_up", key)

    def hscroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        self._log("hscroll", amount, x, y)

    def release_all(self) -> None:
        return None  # nothing was pressed
