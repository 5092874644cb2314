"""What a finished step is remembered as, in one place for both kinds of memory.

The recent-steps window shows the model a :class:`StepSummary` of each step (bounded, so the
window can re-send it several times); the long-term store keeps a compact text that is also
what gets embedded. Both read the record the same way: the subtask it worked on, and each
action's status with its error.
"""

from __future__ import annotations

from cradle.bounds import shorten, shorten_items
from cradle.types import ActionOutcome, StepRecord, StepSummary

SUMMARY_ACTIONS = 10
"""Actions a recent step shows in later prompts; the window re-sends each step five times."""
SUMMARY_ACTION_CHARS = 200
SUMMARY_OUTCOME_CHARS = 800
FIELD_CHARS = 400
"""Longest field of a long-term memory's text (task, subtask, reflection, ...)."""


def clip(text: str, limit: int = FIELD_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def step_subtask(record: StepRecord) -> str:
    """The subtask the step worked on ("" before task inference named one)."""
    return record.task_inference.subtask if record.task_inference else ""


def step_success(record: StepRecord) -> bool:
    """A step succeeded when every action ran ok and the loop recorded no error."""
    return all(outcome.status == "ok" for outcome in record.actions) and not record.errors


def _status(outcome: ActionOutcome, error: str) -> str:
    """An action's status, with its (already trimmed) error in parentheses when it has one."""
    return outcome.status + (f" ({error})" if outcome.error else "")


# --------------------------------------------------------------------------- the window


def outcome_text(record: StepRecord) -> str:
    """One line saying how a step's actions went, for memory and reflection (bounded)."""
    if not record.actions:
        text = "no actions" + (f"; errors: {'; '.join(record.errors)}" if record.errors else "")
    else:
        text = ", ".join(_status(outcome, outcome.error) for outcome in record.actions)
    return shorten(text, SUMMARY_OUTCOME_CHARS)


def summarize(record: StepRecord) -> StepSummary:
    """A compact view of a step: what it worked on, what it did, how that went."""
    return StepSummary(
        step=record.step,
        subtask=step_subtask(record),
        actions=shorten_items(
            [shorten(o.source, SUMMARY_ACTION_CHARS) for o in record.actions], SUMMARY_ACTIONS
        ),
        outcome=outcome_text(record),
    )


# --------------------------------------------------------------------------- the store


def step_text(task: str, record: StepRecord) -> str:
    """The compact text a step is remembered (and embedded) as."""
    lines = [f"Task: {clip(task)}"]
    subtask = step_subtask(record)
    if subtask:
        lines.append(f"Subtask: {clip(subtask)}")
    if record.actions:
        parts = [
            f"{outcome.source} -> {_status(outcome, clip(outcome.error, 160))}"
            for outcome in record.actions
        ]
        lines.append("Actions: " + clip("; ".join(parts), 2 * FIELD_CHARS))
    elif record.action_planning and record.action_planning.actions:
        lines.append("Planned: " + clip("; ".join(record.action_planning.actions)))
    if record.errors:
        lines.append("Errors: " + clip("; ".join(record.errors)))
    reflection = record.self_reflection
    if reflection and (reflection.analysis or reflection.failure_reason):
        text = reflection.analysis
        if not reflection.last_actions_succeeded and reflection.failure_reason:
            text = f"{text} Failed because: {reflection.failure_reason}".strip()
        lines.append("Reflection: " + clip(text))
    return "\n".join(lines)


def memory_id(kind: str, run_id: str, step: int | None = None) -> str:
    """Deterministic ids, so re-adding a step (a resumed run) replaces instead of duplicating."""
    return f"{kind}:{run_id}" + (f":{step}" if step is not None else "")
