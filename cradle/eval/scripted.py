"""The models of ``--reference`` and ``--noop``: scripted replies built from the task.

Both go through the full loop in fused mode (capture, perception, skills, policy, recorder),
so a reference that passes proves the task is solvable by the skills a model would call, and
a no-op that fails proves the checker does not pass on the untouched start.
"""

from __future__ import annotations

from typing import Any

from cradle.llm.scripted import ScriptedModel
from cradle.types import Task


def _fused(actions: list[str], *, done: bool, note: str) -> dict[str, Any]:
    return {
        "information_gathering": {"screen_description": note, "visible_text": [], "elements": []},
        "self_reflection": {"last_actions_succeeded": True, "analysis": note, "failure_reason": ""},
        "task_inference": {"subtask": note, "reasoning": note},
        "skill_curation": {"relevant_skills": [], "new_skills": []},
        "action_planning": {"reasoning": note, "actions": actions, "done": done},
    }


def reference_model(task: Task) -> ScriptedModel:
    """Replies that run the task's reference steps in order and declare done with the last."""
    total = len(task.reference)
    replies = [
        _fused(
            list(actions),
            done=number == total,
            note=f"scripted reference: step {number} of {total}",
        )
        for number, actions in enumerate(task.reference, start=1)
    ]
    return ScriptedModel({"fused": replies}, name="reference")


def noop_model() -> ScriptedModel:
    """One reply: nothing to do, done."""
    return ScriptedModel({"fused": [_fused([], done=True, note="scripted no-op")]}, name="noop")
