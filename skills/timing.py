"""Common timing skills."""

from __future__ import annotations

import time

from cradle.errors import SkillExecutionError
from cradle.skills import SkillContext, skill

MAX_WAIT_SECONDS = 20.0
"""Longest single wait; below the executor's default 30 s time limit."""


@skill
def wait(ctx: SkillContext, seconds: float) -> None:
    """Wait for seconds (at most 20) so the screen can update, e.g. after opening an app.

    Args:
        seconds: How long to wait, from 0 to 20; longer values are capped at 20.
    """
    if seconds != seconds or seconds < 0:  # NaN or negative
        raise SkillExecutionError(f"seconds must be between 0 and {MAX_WAIT_SECONDS:g}")
    end = time.monotonic() + min(float(seconds), MAX_WAIT_SECONDS)
    # Short slices: the executor's time limit is checked between them.
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))
