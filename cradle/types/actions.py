"""Actions: a parsed skill call and what happened when it ran."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from cradle.types.base import Record, utc_now

ArgValue = str | int | float | bool | None | list[Any] | dict[str, Any] | tuple[Any, ...]


class SkillCall(Record):
    """A parsed, validated call of a registered skill."""

    skill: str
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)

    def render(self) -> str:
        """The call as Python source, the form the model writes and reads."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.skill}({', '.join(parts)})"


ActionStatus = Literal["ok", "rejected", "failed", "skipped", "planned"]
"""``planned``: a valid call that a dry run did not send to the screen."""


class ActionOutcome(Record):
    """What happened to one action string the planner produced."""

    source: str = Field(description="The action exactly as the model wrote it")
    call: SkillCall | None = None
    status: ActionStatus
    error: str = ""
    result: Any = None
    clicks: list[tuple[int, int]] = Field(
        default_factory=list, description="Points acted on, in model-image pixels"
    )
    started_at: datetime = Field(default_factory=utc_now)
    duration_ms: float = 0.0
    traceback: str = Field(
        default="",
        description="A trusted skill's own bug, for its author (the model reads only `error`)",
    )
