"""Hooks through which a run reports progress (the CLI prints them; tests collect them)."""

from __future__ import annotations

from typing import Protocol

from cradle.types import ModelCall, StepRecord


class Progress(Protocol):
    def warn(self, message: str) -> None: ...

    def step_started(self, step: int) -> None: ...

    def model_called(self, call: ModelCall) -> None: ...

    def step_finished(self, record: StepRecord) -> None: ...


class SilentProgress:
    """Reports nothing: for library use and tests."""

    def warn(self, message: str) -> None:
        return None

    def step_started(self, step: int) -> None:
        return None

    def model_called(self, call: ModelCall) -> None:
        return None

    def step_finished(self, record: StepRecord) -> None:
        return None
