"""What one action did, as its step records it.

Every way an action can end (refused, failed, a trusted skill's own bug, done) becomes one
:class:`~cradle.types.ActionOutcome` here: timed, with the points it acted on, its result
kept JSON-friendly, and the reason the model reads passed through redaction before it is
shortened (a secret cut in half would no longer match the redaction).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cradle.bounds import shorten
from cradle.errors import SkillBug
from cradle.types import ActionOutcome, ActionStatus, SkillCall, utc_now

MAX_ERROR_CHARS = 500
"""Longest reason recorded for one action (the model reads it in the next prompt)."""
MAX_TRACEBACK_CHARS = 4000
"""Longest traceback kept of a trusted skill's bug (its last lines say the most)."""


class Attempt:
    """One action from the moment it is taken up; its methods end it as an outcome."""

    def __init__(self, source: str, *, redact: Callable[[str], str]) -> None:
        self.source = source
        self.call: SkillCall | None = None
        """Set once the action parsed; a refusal before that has no call."""
        self._redact = redact
        self._started = utc_now()
        self._clock = time.perf_counter()

    def refused(self, exc: Exception) -> ActionOutcome:
        """Not run: the parser, the policy or the secrets gate said no."""
        return self._ended("rejected", error=self._reason(exc))

    def failed(self, exc: Exception, *, note: str = "") -> ActionOutcome:
        """Ran and did not do what was asked; the rest of the step is skipped."""
        return self._ended("failed", error=self._reason(exc) + note)

    def broke(self, exc: SkillBug) -> ActionOutcome:
        """A trusted skill's own bug: failed, with the traceback for its author."""
        trace = shorten(self._redact(exc.traceback), MAX_TRACEBACK_CHARS, keep_tail=1500)
        return self._ended("failed", error=self._reason(exc), traceback=trace)

    def done(self, result: Any, clicks: list[tuple[int, int]], *, planned: bool) -> ActionOutcome:
        """Ran to its end (``planned``: in a dry run, where no input reached the screen)."""
        status: ActionStatus = "planned" if planned else "ok"
        return self._ended(status, result=jsonable(result), clicks=list(clicks))

    def _reason(self, exc: Exception) -> str:
        return shorten(self._redact(str(exc)), MAX_ERROR_CHARS)

    def _ended(self, status: ActionStatus, **fields: Any) -> ActionOutcome:
        return ActionOutcome(
            source=self.source,
            call=self.call,
            status=status,
            started_at=self._started,
            duration_ms=round((time.perf_counter() - self._clock) * 1000, 3),
            **fields,
        )


def jsonable(value: Any) -> Any:
    """Skill results go into the trajectory: keep JSON-friendly ones, describe the rest."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    scalars = str | int | float | bool
    if isinstance(value, list | tuple) and all(isinstance(v, scalars) for v in value):
        return list(value)
    if (
        isinstance(value, dict)
        and len(value) <= 20
        and all(isinstance(k, str) and jsonable(v) == v for k, v in value.items())
    ):
        return {k: shorten(v, 500) if isinstance(v, str) else v for k, v in value.items()}
    return shorten(repr(value), 200)
