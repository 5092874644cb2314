"""The mocked Calculator window: a display and a grid of buttons wired to ``Calculator``.

Clicks on buttons and the same keys typed on the keyboard both end up in
``Calculator.press``, so either way of operating it gives the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cradle.screen.mock import Button, KeyPress, MockScreen, Widget, Window, centered
from cradle.screen.mock.screen import DEFAULT_SIZE
from cradle.screen.mock.toolkit import (
    BUTTON_BG,
    FIELD_BG,
    FIELD_BORDER,
    HIGHLIGHT,
    MUTED,
    Canvas,
    Rect,
    box,
    draw_text,
)

from .calc import Calculator

TITLE = "Calculator"
WIDTH, HEIGHT = 360, 520
GAP = 8
DISPLAY_SIZE = 40
BUTTON_SIZE = 24

# (label, key sent to Calculator, widget name, columns spanned), one row per list.
LAYOUT: list[list[tuple[str, str, str, int]]] = [
    [("C", "C", "clear", 2), ("DEL", "DEL", "backspace", 2)],
    [("7", "7", "digit_7", 1), ("8", "8", "digit_8", 1), ("9", "9", "digit_9", 1),
     ("/", "/", "divide", 1)],
    [("4", "4", "digit_4", 1), ("5", "5", "digit_5", 1), ("6", "6", "digit_6", 1),
     ("*", "*", "multiply", 1)],
    [("1", "1", "digit_1", 1), ("2", "2", "digit_2", 1), ("3", "3", "digit_3", 1),
     ("-", "-", "minus", 1)],
    [("0", "0", "digit_0", 1), (".", ".", "point", 1), ("=", "=", "equals", 1),
     ("+", "+", "plus", 1)],
]  # fmt: skip
KEYS = {"enter": "=", "=": "=", "esc": "C", "c": "C", "C": "C", "backspace": "DEL",
        "delete": "DEL", "x": "*", "X": "*", ",": ".", "add": "+", "subtract": "-",
        "multiply": "*", "divide": "/", "decimal": "."}  # fmt: skip
KEYS.update({f"num{d}": str(d) for d in range(10)})
"""Keyboard keys that differ from the button they stand for."""


class Display(Widget):
    """The read-out: the last expression small on top, the current entry large, right-aligned."""

    role = "display"

    def __init__(self, rect: Rect, calculator: Calculator) -> None:
        super().__init__(rect, label=calculator.display, name="display")
        self.calculator = calculator

    def paint(self, canvas: Canvas) -> None:
        box(canvas, self.rect, FIELD_BG, FIELD_BORDER)
        x0, y0, x1, y1 = self.rect
        draw_text(canvas, (x0, y0 + 4, x1, y0 + 32), self.calculator.history, color=MUTED,
                  align="right", pad=12)  # fmt: skip
        draw_text(canvas, (x0, y0 + 34, x1, y1 - 4), self.calculator.display,
                  size=DISPLAY_SIZE, align="right", pad=12)  # fmt: skip


class CalculatorApp:
    """One Calculator window centred on its own ``MockScreen``."""

    def __init__(self, size: tuple[int, int] = DEFAULT_SIZE) -> None:
        self.screen = MockScreen(size)
        self.calculator = Calculator()
        self.window = Window(centered(self.screen.size, WIDTH, HEIGHT), TITLE, name="calculator")
        self.window.on_key = self._key
        left, top, right, bottom = self.window.client_rect
        left, top, right, bottom = left + 12, top + 12, right - 12, bottom - 12
        self.display = self.window.add(Display((left, top, right, top + 92), self.calculator))
        grid_top = top + 92 + 12
        column = (right - left - 3 * GAP) // 4
        row_height = (bottom - grid_top - 4 * GAP) // 5
        for r, row in enumerate(LAYOUT):
            y = grid_top + r * (row_height + GAP)
            col = 0
            for label, key, name, span in row:
                x = left + col * (column + GAP)
                width = span * column + (span - 1) * GAP
                self.window.add(
                    Button(
                        (x, y, x + width, y + row_height),
                        label,
                        self._presser(key),
                        name=name,
                        size=BUTTON_SIZE,
                        fill=self._fill(key),
                    )
                )
                col += span
        self.screen.add_window(self.window)

    @staticmethod
    def _fill(key: str) -> tuple[int, int, int]:
        if key == "=":
            return HIGHLIGHT
        return (252, 252, 252) if key.isdigit() or key == "." else BUTTON_BG

    def press(self, key: str) -> bool:
        """Send one calculator key and mirror the result in the display's label."""
        handled = self.calculator.press(key)
        self.display.label = self.calculator.display
        return handled

    def _presser(self, key: str) -> Callable[[], None]:
        return lambda: self.press(key) and None

    def _key(self, press: KeyPress) -> bool:
        """Keyboard input: the keys printed on the buttons, plus Enter, Esc and Backspace."""
        name = press.char if press.char is not None else press.chord
        return self.press(KEYS.get(name, name))

    def state(self) -> dict[str, Any]:
        return {
            "title": self.window.title,
            "display": self.calculator.display,
            "history": self.calculator.history,
        }
