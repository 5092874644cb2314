"""The model's replies: one schema per Cradle module, and all of them in one (fused).

Each is the JSON schema the model is asked to fill, and the form its answer is recorded in.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from cradle.types.base import Record
from cradle.types.observation import ScreenElement


class InformationGathering(Record):
    """What is on the screen, in the model's words."""

    screen_description: str = Field(description="What the screen shows, in one or two sentences")
    visible_text: list[str] = Field(description="Text on screen relevant to the task")
    elements: list[ScreenElement] = Field(description="Elements relevant to the task")


class SelfReflection(Record):
    """Did the last actions do what was intended, and if not, why."""

    last_actions_succeeded: bool = Field(
        description="True when the previous step's actions had the intended effect"
    )
    analysis: str = Field(description="What changed on screen and what it means")
    failure_reason: str = Field(description="Why the actions failed; empty when they worked")


class TaskInference(Record):
    """Which subtask comes now. Whether the whole task is done is asked once, as the plan's
    ``done``: the claim the loop acts on."""

    subtask: str = Field(description="The subtask to work on now")
    reasoning: str = Field(description="Why this subtask, given the screen and the history")

    @model_validator(mode="before")
    @classmethod
    def _drop_task_done(cls, data: Any) -> Any:
        """Runs recorded earlier asked here too whether the task was done (``task_done``,
        which nothing read): it is dropped, so their steps and replies still load."""
        if isinstance(data, dict) and "task_done" in data:
            return {key: value for key, value in data.items() if key != "task_done"}
        return data


class SkillCuration(Record):
    """Which skills matter now, and new skills the model proposes as Python source."""

    relevant_skills: list[str] = Field(description="Names of skills useful for the subtask")
    new_skills: list[str] = Field(
        description="Python sources of new @skill functions; usually empty"
    )


class ActionPlan(Record):
    """The skill calls to run this step, as Python call expressions."""

    reasoning: str = Field(description="Why these actions achieve the subtask")
    actions: list[str] = Field(
        description="Skill calls such as click(x=120, y=40) or type_text(text='hi')"
    )
    done: bool = Field(description="True when the task is complete and nothing is left to do")


class FusedStep(Record):
    """All module outputs in one reply: one model call per step."""

    information_gathering: InformationGathering
    self_reflection: SelfReflection
    task_inference: TaskInference
    skill_curation: SkillCuration
    action_planning: ActionPlan
