"""A step whose actions a planner decides (``--mode computer-use`` or ``--planner ...``).

Alone (``--mode computer-use``) the planner is the step's only model call. In the full loop
(modular or fused mode with a planner) information gathering, self-reflection, task inference
and skill curation run first with the general model, one call each (the modular pipeline
without its action-planning module), and the planner plans for task inference's subtask.
Either way the planner's ``ActionPlan`` fills ``action_planning`` and its calls join the
step's ``model_calls``, so execution, gates, recording, budgets and memory see the same
step format whoever planned.
"""

from __future__ import annotations

from dataclasses import dataclass

from cradle.computer_use.base import ActionPlanner, PlanInput
from cradle.decide import Tidy, decide_modular, record_calls
from cradle.errors import ModelError
from cradle.llm.base import ModelProvider
from cradle.modules import MODULAR_PIPELINE, ActionPlanningModule, StepContext
from cradle.progress import Progress
from cradle.prompts import PromptLibrary
from cradle.types import Mode, ModelCall

SUPPORT_PIPELINE = tuple(m for m in MODULAR_PIPELINE if m is not ActionPlanningModule)
"""The modules that run around a planner in the full loop."""


@dataclass(frozen=True)
class PlannerDecider:
    """A ``cradle.decide.Decider``: the other modules (unless alone), then the planner's
    plan as ``action_planning``."""

    planner: ActionPlanner
    mode: Mode
    model: ModelProvider
    prompts: PromptLibrary
    progress: Progress

    def decide(self, ctx: StepContext, calls: list[ModelCall], tidy: Tidy) -> StepContext:
        if self.mode != "computer-use":
            ctx = decide_modular(
                ctx, self.model, self.prompts, calls, self.progress, tidy, SUPPORT_PIPELINE
            )
        given = PlanInput(
            task=ctx.task,
            step=ctx.step,
            image=ctx.image,
            subtask=ctx.task_inference.subtask if ctx.task_inference else "",
            previous=ctx.previous.outcomes if ctx.previous else (),
            notes=tuple(ctx.observation.notes),
        )
        try:
            output = self.planner.plan(given)
        except ModelError as exc:
            # Unusable replies cost tokens too, and failed requests show what was sent.
            record_calls(getattr(exc, "calls", ()), calls, self.progress)
            raise
        record_calls(output.calls, calls, self.progress)
        return ctx.with_output("action_planning", output.plan)
