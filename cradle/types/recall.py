"""What memory puts in front of the model: recent steps and long-term memories."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cradle.types.base import Record


class StepSummary(Record):
    """A compact view of a past step, as memory offers it to the model."""

    step: int
    subtask: str
    actions: list[str]
    outcome: str


class MemoryItem(Record):
    """One long-term memory recalled for the current situation."""

    text: str
    kind: str = "step"
    score: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)


class MemoryRecall(Record):
    """What memory puts in front of the model this step."""

    recent_steps: list[StepSummary] = Field(default_factory=list)
    long_term: list[MemoryItem] = Field(default_factory=list)
