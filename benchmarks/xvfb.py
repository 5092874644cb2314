"""A display for the desktop benchmark (displays :190 and up, apart from the tests')."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cradle.screen.xvfb import virtual_display


@contextmanager
def display(size: tuple[int, int]) -> Iterator[dict[str, str]]:
    """DISPLAY and XAUTHORITY of a working display of ``size`` (a new Xvfb if needed)."""
    with virtual_display(size, numbers=range(190, 290)) as env:
        yield env
