"""The nouns of the data flow: what the loop passes between stages and what a run records.

Every stage receives and returns these objects; nothing is shared through a mutable dict.
The same objects are written to ``trajectory.jsonl``, so a run can be replayed and reported
from exactly what the loop saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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


ElementSource = Literal["a11y", "ocr", "contours", "template"]
"""Who found an element: the app's accessibility tree, text read by OCR, edge contours, or an
icon matched by template."""


class Element(Record):
    """One thing on screen, from any element provider, as the loop, prompts, marks and
    grounding skills all see it. ``x``/``y`` are the centre in model-image pixels (what a skill
    clicks); ``box`` is the element's extent in screen (input) pixels, as the provider or the
    coordinate map gave it. Names and values are screen text: untrusted data, never
    instructions. Records written before the other fields existed load with their defaults."""

    label: str = Field(default="", description="Mark number drawn on the image ('' = unmarked)")
    role: str = Field(description="push button, menu item, text, entry, check box, box, ...")
    name: str = Field(default="", description="Accessible name or the text read on it")
    value: str = Field(default="", description="Current value (text of a field, a level, ...)")
    states: list[str] = Field(default_factory=list, description="focused, checked, disabled, ...")
    x: int = Field(description="Centre x in pixels of the screenshot the model saw")
    y: int = Field(description="Centre y in pixels of the screenshot the model saw")
    box: tuple[int, int, int, int] | None = Field(
        default=None, description="x0, y0, x1, y1 in screen pixels (right/bottom exclusive)"
    )
    source: ElementSource = Field(default="contours", description="Which provider found it")
    actions: list[str] = Field(
        default_factory=list, description="Accessibility actions the app offers (press, ...)"
    )
    ref: str = Field(default="", description="The provider's handle to act on it later")


class Observation(Record):
    """What the agent saw at the start of a step (the pixels themselves live in the run folder)."""

    step: int
    screenshot: str = Field(description="Path of the screenshot, relative to the run folder")
    screen_size: tuple[int, int] = Field(description="Device pixels captured (width, height)")
    image_size: tuple[int, int] = Field(description="Pixels of the image the model was shown")
    captured_at: datetime = Field(default_factory=utc_now)
    changed: bool = Field(default=True, description="False when identical to the last step")
    settle_ms: float = Field(
        default=0.0,
        description="Time spent waiting for the screen to come to rest before "
        "this capture (0 when settling is off)",
    )
    settled: bool = Field(
        default=True,
        description="False when the screen was still changing when the wait ran out (--settle)",
    )
    marks_image: str = Field(default="", description="Set-of-mark image shown, if any")
    elements: list[Element] = Field(
        default_factory=list,
        description="Elements of every provider, merged; label is the mark number",
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


ResponseMode = Literal[
    "json_schema",
    "json_object_schema",
    "json_object",
    "prompt",
    "scripted",
    "tool_use",
    "computer_tool",
]
"""How a reply was asked for; ``computer_tool``: a computer-use API's native actions (the
planner's calls, replayed by ``cradle.computer_use.replayed``, not by the modules)."""


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
    request_failed: bool = Field(
        default=False,
        description="The request itself failed (HTTP error, timeout, refused response "
        "format): no reply came back; replay skips it",
    )
    coordinates: str = Field(
        default="",
        description="How the reply's points were read (convention and grid), for models that "
        "answer with coordinates in their own convention; '' for the others",
    )


# --------------------------------------------------------------------------- step and run


class StepRecord(Record):
    """Everything one turn of the loop saw, decided and did: one line of trajectory.jsonl."""

    run_id: str
    step: int
    mode: Literal["modular", "fused", "computer-use"]
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


RunStatus = Literal[
    "running",
    "done",
    "budget_exhausted",
    "model_failure",
    "environment_failure",
    "interrupted",
    "failed",
]


@dataclass(frozen=True)
class RunResult:
    """How a run ended: its status and exit code (the model's "done" is a claim, not a verdict),
    why, how many steps it recorded and where its folder is."""

    status: RunStatus
    exit_code: int
    reason: str
    steps: int
    run_dir: str


# --------------------------------------------------------------------------- tasks and verdicts


class TaskRecord(BaseModel):
    """Base for task-file objects: strict, so a misspelt key is an error naming it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FileContent(TaskRecord):
    path: str = Field(min_length=1, description="'~' is the episode's own home folder")
    content: str = Field(max_length=1_000_000)


class LaunchApp(TaskRecord):
    command: str = Field(min_length=1)
    window: str | None = Field(default=None, description="regex of the window title to await")
    timeout: float = Field(default=20.0, gt=0, le=300)

    @field_validator("window")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _compiles(value)


class SetupStep(TaskRecord):
    """One of: ``run`` (shell command), ``file`` (write it), ``launch`` (start an app and await
    its window), ``sleep`` (seconds)."""

    run: str | None = None
    file: FileContent | None = None
    launch: LaunchApp | None = None
    sleep: float | None = Field(default=None, ge=0, le=60)

    @property
    def kind(self) -> str:
        return _only_kind(self, ("run", "file", "launch", "sleep"))

    @model_validator(mode="after")
    def _one_kind(self) -> SetupStep:
        _only_kind(self, ("run", "file", "launch", "sleep"))
        return self


class FileCheck(TaskRecord):
    """A file that must exist, with optional conditions on its content."""

    path: str = Field(min_length=1)
    contains: str | None = None
    regex: str | None = None
    equals: str | None = None
    json_subset: Any = Field(
        default=None, alias="json", description="a JSON value the file's JSON must contain"
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _compiles(value)


class Check(TaskRecord):
    """One of: ``command`` (exit 0 passes), ``file``, ``screen_text`` (read by OCR on the final
    screen), ``state`` (a subset of the environment's own ``state()``)."""

    command: str | None = None
    file: FileCheck | None = None
    screen_text: str | None = None
    state: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        return _only_kind(self, ("command", "file", "screen_text", "state"))

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        _only_kind(self, ("command", "file", "screen_text", "state"))
        return self


class TaskNeeds(TaskRecord):
    """What an episode of the task needs from the machine that runs it: on a Ray cluster
    these are the resources it is scheduled by (cradle.eval.cluster)."""

    display: bool | None = Field(
        default=None, description="a virtual display; None: whatever its environment needs"
    )
    cpus: float = Field(default=1.0, gt=0, le=256)


class Task(TaskRecord):
    """A task as data: what to do, where, how to start, how to judge, how to solve it.

    ``check`` may be empty only for a task made in memory from a bare instruction
    (``cradle run --tasks-file``): task files must judge (the loader refuses ``check: []``),
    and an unchecked task passes when the model declares it done, which is only a claim."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    instruction: str = Field(min_length=1, max_length=10_000)
    environment: str = Field(min_length=1)
    env_options: dict[str, Any] = Field(default_factory=dict)
    setup: list[SetupStep] = Field(default_factory=list, max_length=50)
    check: list[Check] = Field(max_length=50)
    max_steps: int = Field(default=15, ge=1, le=500)
    timeout: float = Field(default=300.0, gt=0, le=24 * 3600)
    reference: list[list[str]] = Field(default_factory=list, max_length=200)
    needs: TaskNeeds = Field(default_factory=TaskNeeds)
    source: str = Field(default="", exclude=True, description="file the task came from")


class CheckResult(Record):
    kind: str
    passed: bool
    detail: str = ""


class Verdict(Record):
    """The checker's word on an episode: the fact, where the model's "done" is a claim."""

    success: bool
    checks: list[CheckResult] = Field(default_factory=list)
    stage: Literal["setup", "episode", "check", "done"] = "done"
    """Where it was decided: a failed setup or a crashed episode fails the task there."""
    error: str | None = None


Stage = Literal["setup", "episode", "check", "done"]


class TaskResult(Record):
    """One task run as an episode and judged: one line of ``cradle eval``'s results.jsonl.

    ``success`` and ``checks`` are the verdict; ``status`` is how the episode itself ended
    (``done`` means the model *claimed* it was done). ``stage`` says where a failure was
    decided: ``setup`` (no model call was made), ``episode`` (it crashed or was stopped
    before it could be judged), ``check`` (a check could not run) or ``done`` (judged).
    """

    id: str
    environment: str = ""
    success: bool
    stage: Stage = "done"
    status: RunStatus | Literal["not_started"] = "not_started"
    reason: str = ""
    """Why the episode ended as it did (run.json's reason), e.g. the step limit was reached."""
    checks: list[CheckResult] = Field(default_factory=list)
    steps: int = 0
    model_calls: int = 0
    tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0
    run_dir: str = ""
    error: str | None = None

    @property
    def verdict(self) -> Verdict:
        return Verdict(success=self.success, checks=self.checks, stage=self.stage, error=self.error)


def _only_kind(record: BaseModel, kinds: tuple[str, ...]) -> str:
    given = [k for k in kinds if getattr(record, k) is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {', '.join(kinds)}")
    return given[0]


def _compiles(pattern: str | None) -> str | None:
    import re

    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
    return pattern
