"""Helpers for the platform tree readers' tests: recorded trees and views of a captured area."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from cradle.elements.base import View
from cradle.screen.base import ScreenGeometry
from cradle.screen.mapping import CoordinateMap

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def recorded() -> Callable[[str], dict[str, Any]]:
    """A fresh copy of a recorded tree (tests may change it)."""
    return lambda name: json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def make_view() -> Callable[..., View]:
    """A view of ``capture`` device pixels at ``origin`` (input points), HiDPI ``scale``,
    shown to the model at ``shown`` pixels."""

    def build(
        capture: tuple[int, int],
        origin: tuple[int, int],
        scale: float,
        shown: tuple[int, int],
        digest: str = "frame-1",
    ) -> View:
        geometry = ScreenGeometry(capture_size=capture, origin=origin, scale=scale)
        return View(
            Image.new("RGB", capture),
            Image.new("RGB", shown),
            CoordinateMap(shown, geometry),
            digest,
        )

    return build
