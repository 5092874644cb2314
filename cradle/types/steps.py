"""What a run records: each model call, each step (one line of trajectory.jsonl) and how
the run ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from cradle.types.actions import ActionOutcome
from cradle.types.base import Record
from cradle.types.observation import Observation
from cradle.types.recall import MemoryRecall
from cradle.types.replies import (
    ActionPlan,
    InformationGathering,
    SelfReflection,
    SkillCuration,
    TaskInference,
)

Mode = Literal["modular", "fused", "computer-use"]
"""How a step is decided: one model call per module, one call for all, or a computer-use
planner alone."""

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
    mode: Mode
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
