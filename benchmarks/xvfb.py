"""A display for the desktop benchmarks (displays :190 and up, apart from the tests')."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from cradle.screen.xvfb import virtual_display


@contextmanager
def display(size: tuple[int, int]) -> Iterator[dict[str, str]]:
    """DISPLAY and XAUTHORITY of a working display of ``size`` (a new Xvfb if needed)."""
    with virtual_display(size, numbers=range(190, 290)) as env:
        yield env


@contextmanager
def exported(env: dict[str, str]) -> Iterator[None]:
    """``env`` in ``os.environ`` while the block runs (apps and readers read it there)."""
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
