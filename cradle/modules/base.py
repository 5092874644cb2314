"""What every module shares: the step's inputs and the way a module asks the model.

A module is a small object: a name, a template, an output model and whether the screenshot
goes with the request. The step's inputs travel in an immutable ``StepContext``; each module's
output is added by making a new context, so no stage can change what an earlier one saw.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from PIL import Image
from pydantic import BaseModel

from cradle.llm.base import ModelProvider, ModelReply, ModelRequest
from cradle.prompts import PromptLibrary
from cradle.types import (
    ActionOutcome,
    ActionPlan,
    InformationGathering,
    MemoryRecall,
    Observation,
    SelfReflection,
    SkillCuration,
    StepRecord,
    TaskInference,
)


@dataclass(frozen=True)
class PreviousStep:
    """What the last step intended and what happened, as self-reflection needs it."""

    step: int
    subtask: str
    reasoning: str
    outcomes: tuple[ActionOutcome, ...]

    @classmethod
    def of(cls, record: StepRecord) -> PreviousStep:
        """The view of a recorded step that the next step reflects on."""
        return cls(
            step=record.step,
            subtask=record.task_inference.subtask if record.task_inference else "",
            reasoning=record.action_planning.reasoning if record.action_planning else "",
            outcomes=tuple(record.actions),
        )


@dataclass(frozen=True)
class StepContext:
    """Inputs of one step, growing by one module output at a time."""

    task: str
    step: int
    image: Image.Image
    observation: Observation
    memory: MemoryRecall
    skills: str
    """Signatures of every skill the planner may call, one per line."""
    vision: bool = True
    """False for a model without image input: no screenshot is sent; the prompt carries the
    screen text and the element list instead."""
    previous: PreviousStep | None = None
    information_gathering: InformationGathering | None = None
    self_reflection: SelfReflection | None = None
    task_inference: TaskInference | None = None
    skill_curation: SkillCuration | None = None
    action_planning: ActionPlan | None = None

    def with_output(self, module: str, output: BaseModel) -> StepContext:
        return replace(self, **{module: output})

    def variables(self) -> dict[str, Any]:
        """Everything a template may use, by name."""
        width, height = self.observation.image_size
        return {
            "task": self.task,
            "step": self.step,
            "image_width": width,
            "image_height": height,
            "screen_changed": self.observation.changed,
            "notes": self.observation.notes,
            "elements": self.observation.elements,
            "screen_text": self.observation.screen_text,
            "vision": self.vision,
            "memory": self.memory,
            "skills": self.skills,
            "previous": self.previous,
            "information_gathering": self.information_gathering,
            "self_reflection": self.self_reflection,
            "task_inference": self.task_inference,
            "skill_curation": self.skill_curation,
            "action_planning": self.action_planning,
        }


class Module:
    """One Cradle module: renders its template, asks the model, returns its typed output."""

    name: ClassVar[str]
    template: ClassVar[str]
    output_model: ClassVar[type[BaseModel]]
    sends_image: ClassVar[bool] = True
    max_output_tokens: ClassVar[int] = 1024
    """The reply budget sent as ``max_tokens`` unless the user sets one (--max-output-tokens).
    Sized to the output model with room to spare: a short verdict (self-reflection, task
    inference) fits in 512, a plan or a screen description with a dozen elements in 1024, and
    outputs that may carry skill code (skill curation, the fused step holding every module's
    output) get 2048. A reply cut at the limit fails validation and says to raise it; the
    limit exists so a small model under a JSON grammar cannot run on for minutes."""

    def should_run(self, ctx: StepContext) -> bool:
        """Whether the module has anything to do this step (self-reflection skips step 1)."""
        return True

    def request(self, ctx: StepContext, prompts: PromptLibrary) -> ModelRequest:
        variables = ctx.variables()
        return ModelRequest(
            module=self.name,
            system=prompts.render("system.j2", **variables),
            user=prompts.render(self.template, **variables),
            output_model=self.output_model,
            images=(ctx.image,) if self.sends_image and ctx.vision else (),
            max_output_tokens=self.max_output_tokens,
        )

    def run(self, ctx: StepContext, model: ModelProvider, prompts: PromptLibrary) -> ModelReply:
        return model.complete(self.request(ctx, prompts))
