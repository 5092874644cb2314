"""The nouns of the data flow: what the loop passes between stages and what a run records.

Every stage receives and returns these objects; nothing is shared through a mutable dict.
The same objects are written to ``trajectory.jsonl``, so a run can be replayed and reported
from exactly what the loop saw. One module per concept: what was seen (``observation``), the
model's replies (``replies``), what memory recalls (``recall``), actions (``actions``), what a
run records (``steps``) and tasks with their verdicts (``tasks``); every name is importable
from ``cradle.types``.
"""

from cradle.types.actions import ActionOutcome, ActionStatus, ArgValue, SkillCall
from cradle.types.base import Record, utc_now
from cradle.types.observation import Element, ElementSource, Observation, ScreenElement
from cradle.types.recall import MemoryItem, MemoryRecall, StepSummary
from cradle.types.replies import (
    ActionPlan,
    FusedStep,
    InformationGathering,
    SelfReflection,
    SkillCuration,
    TaskInference,
)
from cradle.types.steps import Mode, ModelCall, ResponseMode, RunResult, RunStatus, StepRecord
from cradle.types.tasks import (
    Check,
    CheckResult,
    FileCheck,
    FileContent,
    LaunchApp,
    SetupStep,
    Stage,
    Task,
    TaskNeeds,
    TaskRecord,
    TaskResult,
    Verdict,
)

__all__ = [
    "ActionOutcome",
    "ActionPlan",
    "ActionStatus",
    "ArgValue",
    "Check",
    "CheckResult",
    "Element",
    "ElementSource",
    "FileCheck",
    "FileContent",
    "FusedStep",
    "InformationGathering",
    "LaunchApp",
    "MemoryItem",
    "MemoryRecall",
    "Mode",
    "ModelCall",
    "Observation",
    "Record",
    "ResponseMode",
    "RunResult",
    "RunStatus",
    "ScreenElement",
    "SelfReflection",
    "SetupStep",
    "SkillCall",
    "SkillCuration",
    "Stage",
    "StepRecord",
    "StepSummary",
    "Task",
    "TaskInference",
    "TaskNeeds",
    "TaskRecord",
    "TaskResult",
    "Verdict",
    "utc_now",
]
