"""How a step reaches its decision: the deciders.

The general model decides in one call per module or in one call for all
(``ModelDecider``); a computer-use planner may plan the actions instead
(``cradle.computer_use.step.PlannerDecider``); and ``IdleRepeat`` decides without asking
anyone, repeating the last step's wait while nothing the model would read has changed. Each
returns the same ``StepContext`` with every module's output filled in, so the rest of the loop
(execution, recording, memory) does not know who decided.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel

from cradle.errors import ModelError
from cradle.llm.base import ModelProvider, ModelReply
from cradle.modules import MODULAR_PIPELINE, FusedModule, Module, StepContext
from cradle.progress import Progress
from cradle.prompts import PromptLibrary
from cradle.types import FusedStep, Mode, ModelCall, StepRecord

Tidy = Callable[[str, BaseModel], BaseModel]
"""Applied to each module output before later modules read it (redaction, size bounds)."""


@dataclass
class Decision:
    """A step's decision and what it cost: the model calls made (failed ones too), the
    model's error when no usable reply came, and whether the model was asked at all."""

    ctx: StepContext
    calls: list[ModelCall] = field(default_factory=list)
    error: ModelError | None = None
    model_skipped: bool = False


class Decider(Protocol):
    """Fills ``ctx`` with the step's module outputs, adding the model calls made to
    ``calls`` (also when it raises ``ModelError``)."""

    def decide(self, ctx: StepContext, calls: list[ModelCall], tidy: Tidy) -> StepContext: ...


def _keep(name: str, output: BaseModel) -> BaseModel:
    return output


def record_calls(made: Iterable[ModelCall], calls: list[ModelCall], progress: Progress) -> None:
    """Add the calls ``made`` to the step's ``calls`` and show them."""
    for call in made:
        calls.append(call)
        progress.model_called(call)


def _ask(
    module: Module,
    ctx: StepContext,
    model: ModelProvider,
    prompts: PromptLibrary,
    calls: list[ModelCall],
    progress: Progress,
) -> ModelReply:
    try:
        reply = module.run(ctx, model, prompts)
    except ModelError as exc:
        # Unusable replies cost tokens too, and failed requests show what was sent: record both
        record_calls(getattr(exc, "calls", ()), calls, progress)
        raise
    record_calls(reply.calls, calls, progress)
    return reply


def decide_modular(
    ctx: StepContext,
    model: ModelProvider,
    prompts: PromptLibrary,
    calls: list[ModelCall],
    progress: Progress,
    tidy: Tidy = _keep,
    pipeline: Sequence[type[Module]] = MODULAR_PIPELINE,
) -> StepContext:
    """Run the modules in Cradle's order, each seeing the outputs of those before it."""
    for module_cls in pipeline:
        module = module_cls()
        if not module.should_run(ctx):
            continue
        reply = _ask(module, ctx, model, prompts, calls, progress)
        ctx = ctx.with_output(module.name, tidy(module.name, reply.output))
    return ctx


def decide_fused(
    ctx: StepContext,
    model: ModelProvider,
    prompts: PromptLibrary,
    calls: list[ModelCall],
    progress: Progress,
    tidy: Tidy = _keep,
) -> StepContext:
    """One request returns every module's output."""
    reply = _ask(FusedModule(), ctx, model, prompts, calls, progress)
    fused = reply.output
    assert isinstance(fused, FusedStep)
    for name in FusedStep.model_fields:
        output = getattr(fused, name)
        if name == "self_reflection" and ctx.previous is None:
            continue  # nothing to reflect on at step 1, as in modular mode
        ctx = ctx.with_output(name, tidy(name, output))
    return ctx


def decide(
    mode: Mode,
    ctx: StepContext,
    model: ModelProvider,
    prompts: PromptLibrary,
    calls: list[ModelCall],
    progress: Progress,
    tidy: Tidy = _keep,
) -> StepContext:
    """The general model's decision, in ``mode``."""
    if mode == "computer-use":
        raise ModelError("--mode computer-use needs a computer-use planner")
    runner = decide_fused if mode == "fused" else decide_modular
    return runner(ctx, model, prompts, calls, progress, tidy)


@dataclass(frozen=True)
class ModelDecider:
    """The general model decides: one call per module (modular) or one for all (fused)."""

    mode: Mode
    model: ModelProvider
    prompts: PromptLibrary
    progress: Progress

    def decide(self, ctx: StepContext, calls: list[ModelCall], tidy: Tidy) -> StepContext:
        return decide(self.mode, ctx, self.model, self.prompts, calls, self.progress, tidy)


class IdleRepeat:
    """The decider that asks no one: the last step's wait plan, again, while asking the
    model could not tell it more, at most ``limit`` times in a row (0: never)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._streak = 0

    def decide(
        self, ctx: StepContext, last: StepRecord | None, errors: Sequence[str]
    ) -> StepContext | None:
        """``ctx`` with the last step's outputs, or None when the model must be asked."""
        if last is None or self._streak >= self.limit or not can_repeat(ctx, last, errors):
            self._streak = 0
            return None
        self._streak += 1
        plan = last.action_planning
        assert plan is not None
        ctx = ctx.with_output("action_planning", plan)
        for name in ("information_gathering", "task_inference"):
            output = getattr(last, name)
            if output is not None:
                ctx = ctx.with_output(name, output)
        return ctx


def can_repeat(ctx: StepContext, last: StepRecord, errors: Sequence[str]) -> bool:
    """Whether the last step's wait may run again without a model call.

    Safe only when nothing the model would read has changed: the last step was a model
    decision to wait (only ``wait(...)`` calls, at least one: an empty plan is not a
    decision to wait), not done, every action ran ok, no skill was proposed and nothing
    went wrong; the screen is pixel-identical and the environment's notes are the same.
    Then the model's inputs differ only in the step number.
    """
    observation = ctx.observation
    plan = last.action_planning
    if (
        errors
        or observation.changed
        or observation.notes != last.observation.notes
        or last.errors
        or last.done
        or last.new_skills
        or not last.actions
        or plan is None
        or plan.done
        or (not last.model_calls and not last.model_skipped)  # no model chose this plan
        or len(last.actions) != len(plan.actions)
    ):
        return False
    return all(
        o.status == "ok" and o.call is not None and o.call.skill == "wait" for o in last.actions
    )
