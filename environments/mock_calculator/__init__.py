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
    description = (
        "A mocked calculator: digit and + - * / = buttons, C and DEL, keyboard input too; "
        "deterministic, no display needed."
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.app: CalculatorApp | None = None

    def start(self) -> MockScreen:
        self.app = CalculatorApp(parse_size(self.options))
        return self.app.screen

    def close(self) -> None:
        if self.app is not None:
            self.app.screen.close()

    def state(self) -> dict[str, Any]:
        return self.app.state() if self.app is not None else {}


environment = MockCalculator
