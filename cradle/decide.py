"""How a step reaches its decision: one model call per module, or one for all.

Both modes return the same ``StepContext`` with every module's output filled in, so the rest
of the loop (execution, recording, memory) does not know which mode ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from cradle.errors import ModelError
from cradle.llm.base import ModelProvider, ModelReply
from cradle.modules import MODULAR_PIPELINE, FusedModule, Module, StepContext
from cradle.progress import Progress
from cradle.prompts import PromptLibrary
from cradle.types import FusedStep, ModelCall

if TYPE_CHECKING:
    from cradle.computer_use.base import ActionPlanner

Mode = Literal["modular", "fused", "computer-use"]
Tidy = Callable[[str, BaseModel], BaseModel]
"""Applied to each module output before later modules read it (redaction, size bounds)."""


def _keep(name: str, output: BaseModel) -> BaseModel:
    return output


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
        failed = getattr(exc, "calls", ())
        calls.extend(failed)
        for call in failed:
            progress.model_called(call)
        raise
    for call in reply.calls:
        calls.append(call)
        progress.model_called(call)
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
    planner: ActionPlanner | None = None,
) -> StepContext:
    """The step's decision; with a ``planner``, the planner plans the actions
    (``cradle.computer_use.step``)."""
    if planner is not None:
        from cradle.computer_use.step import decide_with_planner

        return decide_with_planner(planner, mode, ctx, model, prompts, calls, progress, tidy)
    if mode == "computer-use":
        raise ModelError("--mode computer-use needs a computer-use planner")
    runner = decide_fused if mode == "fused" else decide_modular
    return runner(ctx, model, prompts, calls, progress, tidy)
