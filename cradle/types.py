"""The nouns of the data flow: what the loop passes between stages and what a run records.

Every stage receives and returns these objects; nothing is shared through a mutable dict.
The same objects are written to ``trajectory.jsonl``, so a run can be replayed and reported
from exactly what the loop saw.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    """Aware UTC timestamps everywhere, so runs from different machines line up."""
    return datetime.now(UTC)


class Record(BaseModel):
    """Base for recorded objects: unknown fields are errors, so typos in trajectories show."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- observation


class ScreenElement(Record):
    """One thing on screen the model may act on, in the pixel space of the image it saw."""

    label: str = Field(description="Visible text or a short name of the element")
    role: str = Field(description="button, menu, text field, window, icon, link, ...")
    x: int = Field(description="Centre x in pixels of the screenshot")
    y: int = Field(description="Centre y in pixels of the screenshot")


class Observation(Record):
    """What the agent saw at the start of a step (the pixels themselves live in the run folder)."""

    step: int
    screenshot: str = Field(description="Path of the screenshot, relative to the run folder")
    screen_size: tuple[int, int] = Field(description="Device pixels captured (width, height)")
    image_size: tuple[int, int] = Field(description="Pixels of the image the model was shown")
    captured_at: datetime = Field(default_factory=utc_now)
    changed: bool = Field(default=True, description="False when identical to the last step")
    marks_image: str = Field(default="", description="Set-of-mark image shown, if any")
    elements: list[ScreenElement] = Field(
        default_factory=list, description="Detected elements; label is the mark number"
    )
    screen_text: list[ScreenElement] = Field(
        default_factory=list, description="Text read on screen (role 'text'), with centres"
    )
    notes: list[str] = Field(
        default_factory=list, description="Facts the environment reports (focus lost, ...)"
    )


# --------------------------------------------------------------------------- module outputs


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
    """Which subtask comes now, and whether the whole task is already done."""

    subtask: str = Field(description="The subtask to work on now")
    reasoning: str = Field(description="Why this subtask, given the screen and the history")
    task_done: bool = Field(description="True when the whole task is already complete")


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


# --------------------------------------------------------------------------- memory


class StepSummary(Record):
    """A compact view of a past step, as memory offers it to the model."""

    step: int
    subtask: str
    actions: list[str]
    outcome: str


class MemoryItem(Record):
    """One long-term memory recalled for the current situation."""

    text: str
    kind: str = "step"
    score: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)


class MemoryRecall(Record):
    """What memory puts in front of the model this step."""

    recent_steps: list[StepSummary] = Field(default_factory=list)
    long_term: list[MemoryItem] = Field(default_factory=list)


# --------------------------------------------------------------------------- actions


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


# --------------------------------------------------------------------------- model calls


ResponseMode = Literal["json_schema", "json_object", "prompt", "scripted"]


class ModelCall(Record):
    """One request to the model, as recorded (never the image bytes, never the key)."""

    module: str
    model: str
    response_mode: ResponseMode
    prompt: str = Field(description="System and user text sent, images replaced by a note")
    images: int = 0
    reply: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    error: str = ""


# --------------------------------------------------------------------------- step and run


class StepRecord(Record):
    """Everything one turn of the loop saw, decided and did: one line of trajectory.jsonl."""

    run_id: str
    step: int
    mode: Literal["modular", "fused"]
    started_at: datetime
    ended_at: datetime
    observation: Observation
    memory: MemoryRecall = Field(default_factory=MemoryRecall)
    information_gathering: InformationGathering | None = None
    self_reflection: SelfReflection | None = None
    task_inference: TaskInference | None = None
    skill_curation: SkillCuration | None = None
    action_planning: ActionPlan | None = None
    actions: list[ActionOutcome] = Field(default_factory=list)
    new_skills: list[dict[str, Any]] = Field(default_factory=list)
    model_calls: list[ModelCall] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    done: bool = False
    timings_ms: dict[str, float] = Field(
        default_factory=dict,
        description="Wall time of each stage of the step (capture, perceive, decide, ...), so "
        "a slow step shows where its time went; 'model' is the model calls' own latency",
    )
    model_skipped: bool = Field(
        default=False,
        description="True when the step repeated the last step's wait plan without a model "
        "call, because nothing the model would read had changed",
    )

    @property
    def input_tokens(self) -> int:
        return sum(call.input_tokens for call in self.model_calls)

    @property
    def output_tokens(self) -> int:
        return sum(call.output_tokens for call in self.model_calls)


RunStatus = Literal["running", "done", "budget_exhausted", "model_failure", "environment_failure",
                    "interrupted", "failed"]
