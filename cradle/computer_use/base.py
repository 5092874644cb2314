"""The planner protocol: a model that looks at the screen and answers with actions.

In ``--mode computer-use`` a planner alone decides each step (one call per step); in the full
loop it replaces the action-planning module, after information gathering, reflection and task
inference ran with the general model. Either way it returns an ``ActionPlan`` of skill-call
sources plus the ``ModelCall`` records of its requests, so execution, gates, recording,
budgets and replay do not know which kind of model planned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image

from cradle.types import ActionOutcome, ActionPlan, ModelCall


@dataclass(frozen=True)
class PlanInput:
    """What a planner gets for one step."""

    task: str
    step: int
    image: Image.Image
    """The screenshot the model is shown (its size is the display size declared to it)."""
    subtask: str = ""
    """Task inference's subtask in the full loop; empty when the planner runs alone."""
    previous: tuple[ActionOutcome, ...] = ()
    """What the last step's actions did: computer-use APIs get them back as tool results."""
    notes: tuple[str, ...] = ()
    """Environment notes and errors of the last step, to tell the model."""


@dataclass(frozen=True)
class PlanOutput:
    """A planner's decision for one step."""

    plan: ActionPlan
    calls: tuple[ModelCall, ...] = ()
    native: tuple[str, ...] = field(default_factory=tuple)
    """The model's own actions, as it wrote them (recorded with the step's calls)."""


class ActionPlanner(Protocol):
    """A computer-use model or an open GUI model, planning in its own action vocabulary."""

    name: str

    def plan(self, given: PlanInput) -> PlanOutput:
        """This step's actions, or raise ``ModelError`` (never unvalidated actions)."""
        ...

    def close(self) -> None: ...
