"""Fixtures for the skills tests: a fake screen that records calls, no display needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from cradle.paths import shared_skills_dir
from cradle.screen.base import Screen, ScreenGeometry
from cradle.screen.mapping import CoordinateMap
from cradle.skills import SkillContext, SkillRegistry

CORPUS = Path(__file__).parent / "corpus"


class FakeScreen(Screen):
    """Records every input call as a tuple, e.g. ("click", 20, 40, "left", 1)."""

    def __init__(self, size: tuple[int, int] = (400, 200)):
        self._geometry = ScreenGeometry(capture_size=size)
        self.calls: list[tuple[Any, ...]] = []

    @property
    def geometry(self) -> ScreenGeometry:
        return self._geometry

    def capture(self) -> Image.Image:
        return Image.new("RGB", self._geometry.capture_size)

    def click(self, x: int, y: int, *, button: str = "left", clicks: int = 1) -> None:
        self.calls.append(("click", x, y, button, clicks))

    def move(self, x: int, y: int) -> None:
        self.calls.append(("move", x, y))

    def drag(self, x1: int, y1: int, x2: int, y2: int, *, button: str = "left") -> None:
        self.calls.append(("drag", x1, y1, x2, y2))

    def scroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        self.calls.append(("scroll", amount, x, y))

    def type_text(self, text: str) -> None:
        self.calls.append(("type_text", text))

    def press(self, key: str) -> None:
        self.calls.append(("press", key))

    def hotkey(self, *keys: str) -> None:
        self.calls.append(("hotkey", *keys))


@pytest.fixture
def screen() -> FakeScreen:
    return FakeScreen()


@pytest.fixture
def ctx(screen: FakeScreen) -> SkillContext:
    """The model saw a 200x100 image of the 400x200 screen: downscaled 2x."""
    return SkillContext(screen=screen, mapping=CoordinateMap((200, 100), screen.geometry))


@pytest.fixture(scope="session")
def common_registry() -> SkillRegistry:
    registry = SkillRegistry.load([shared_skills_dir()])
    assert registry.problems == []
    return registry


@pytest.fixture
def registry() -> SkillRegistry:
    """A fresh registry of the common skills (tests may add generated skills to it)."""
    registry = SkillRegistry.load([shared_skills_dir()])
    assert registry.problems == []
    return registry
