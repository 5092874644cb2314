"""The six Cradle modules. Each has its own template and output model."""

from cradle.modules.action_planning import ActionPlanningModule
from cradle.modules.base import Module, PreviousStep, StepContext
from cradle.modules.fused import FusedModule
from cradle.modules.information_gathering import InformationGatheringModule
from cradle.modules.memory import LongTermMemory, Memory, NoLongTermMemory
from cradle.modules.self_reflection import SelfReflectionModule
from cradle.modules.skill_curation import SkillCurationModule
from cradle.modules.task_inference import TaskInferenceModule

MODULAR_PIPELINE: tuple[type[Module], ...] = (
    InformationGatheringModule,
    SelfReflectionModule,
    TaskInferenceModule,
    SkillCurationModule,
    ActionPlanningModule,
)
"""The order modules run in modular mode (memory is consulted before them)."""

__all__ = [
    "MODULAR_PIPELINE",
    "ActionPlanningModule",
    "FusedModule",
    "InformationGatheringModule",
    "LongTermMemory",
    "Memory",
    "Module",
    "NoLongTermMemory",
    "PreviousStep",
    "SelfReflectionModule",
    "SkillCurationModule",
    "StepContext",
    "TaskInferenceModule",
]
