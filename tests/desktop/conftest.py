"""A display for the desktop tests: the one in DISPLAY if it answers, else a private Xvfb.

Desktop tests are never skipped silently: without Xvfb they fail with the package to install.
An empty X authority file is created and exported, because python-xlib (under pyautogui)
refuses to connect without one even to an Xvfb that uses no authentication.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from cradle.errors import EnvironmentFailure
from cradle.screen.xvfb import virtual_display

SIZE = (1920, 1080)


@pytest.fixture(scope="session")
def display() -> Iterator[dict[str, str]]:
    """Environment variables (DISPLAY, XAUTHORITY) of a working 1920x1080 display."""
    try:
        with virtual_display(SIZE) as env:
            yield env
    except EnvironmentFailure as exc:
        pytest.fail(f"{exc} (tests/run.sh installs what the desktop tests need)")


@pytest.fixture
def desktop_env(display: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The display exported to this process (for in-process tests), without CRADLE_DESKTOP_*."""
    for key, value in display.items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith("CRADLE_DESKTOP_"):
            monkeypatch.delenv(key)
    return display
