"""mock-calculator: a deterministic four-function calculator on a mocked screen."""

from __future__ import annotations

from typing import Any

from cradle.environment import Environment
from cradle.screen.mock import MockScreen, parse_size

from .app import CalculatorApp


class MockCalculator(Environment):
    """Calculator drawn by the mock toolkit; option: ``size`` ('1024x768')."""

    name = "mock-calculator"
    starts_fresh = True
    needs_display = False
    option_help = {
        "size": "screen size WIDTHxHEIGHT (default 1024x768)",
        "width": "screen width in pixels, when no size is given",
        "height": "screen height in pixels, when no size is given",
    }
    description = (
        "A mocked calculator: digit and + - * / = buttons, C and DEL, keyboard input too; "
        "deterministic, no display needed."
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.size = parse_size(self.options)  # a bad size fails here, before any run folder
        self.app: CalculatorApp | None = None

    def start(self) -> MockScreen:
        self.app = CalculatorApp(self.size)
        return self.app.screen

    def close(self) -> None:
        if self.app is not None:
            self.app.screen.close()

    def state(self) -> dict[str, Any]:
        return self.app.state() if self.app is not None else {}


environment = MockCalculator
