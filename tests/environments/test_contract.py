"""Every shipped environment keeps the contract the loop relies on."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

from cradle.environment import Environment, discover_environments, load_environment
from cradle.environment_check import check_environment
from cradle.screen.base import ScreenGeometry
from cradle.screen.mock import MockScreen


@pytest.mark.parametrize("name", ["mock-notepad", "mock-calculator"])
def test_mock_environments_keep_the_contract(name: str) -> None:
    assert check_environment(load_environment(name)) == []


def test_a_broken_environment_is_described_not_raised() -> None:
    class LyingScreen(MockScreen):
        @property
        def geometry(self) -> ScreenGeometry:
            return ScreenGeometry(capture_size=(1, 1))

        def capture(self) -> Image.Image:
            return super().capture().convert("L")

    class Broken(Environment):
        name = "broken"
        description = ""

        def start(self) -> LyingScreen:
            return LyingScreen()

        def state(self) -> dict:
            return {"when": object()}

    problems = "\n".join(check_environment(Broken()))
    assert "'description' must be a non-empty string" in problems
    assert "mode 'L'" in problems
    assert "capture_size (1, 1)" in problems
    assert "not JSON-able" in problems


def test_cli_checks_every_environment() -> None:
    assert {"mock-notepad", "mock-calculator", "desktop"} <= set(discover_environments())
    result = subprocess.run(
        [sys.executable, "-m", "cradle", "envs"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "mock-calculator" in result.stdout
