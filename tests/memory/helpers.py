"""Builders shared by the memory tests."""

from __future__ import annotations

from datetime import timedelta

from cradle.types import (
    ActionOutcome,
    Observation,
    SelfReflection,
    StepRecord,
    TaskInference,
    utc_now,
)


def make_record(
    run_id: str,
    step: int,
    subtask: str,
    actions: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    *,
    reflection: tuple[bool, str, str] | None = None,
    errors: list[str] | None = None,
) -> StepRecord:
    """A StepRecord with just what memory reads: subtask, action outcomes, reflection."""
    start = utc_now()
    return StepRecord(
        run_id=run_id,
        step=step,
        mode="fused",
        started_at=start,
        ended_at=start + timedelta(seconds=1),
        observation=Observation(
            step=step,
            screenshot=f"step_{step}.png",
            screen_size=(800, 600),
            image_size=(800, 600),
        ),
        task_inference=TaskInference(subtask=subtask, reasoning=""),
        self_reflection=(
            SelfReflection(
                last_actions_succeeded=reflection[0],
                analysis=reflection[1],
                failure_reason=reflection[2],
            )
            if reflection
            else None
        ),
        actions=[
            ActionOutcome(source=source, status=status, error=error)  # type: ignore[arg-type]
            for source, status, error in actions
        ],
        errors=list(errors or []),
    )
