"""cradle: agents that use a computer the way a person does.

The names a user of the library needs come from here, whatever module defines them::

    from cradle import Environment, SkillContext, skill          # extend it
    from cradle import EpisodeSettings, open_episode, run_task   # run it

Each is imported when it is first used (a module ``__getattr__``, PEP 562), so ``import
cradle`` itself does nothing but define names: no display connection, no network, no model
loading, no heavy library. Everything heavy is imported where it is used.
"""

from importlib import import_module

TYPE_CHECKING = False
"""True for type checkers only (as ``typing.TYPE_CHECKING``, without importing typing)."""

__version__ = "0.1.0"

_HOMES: dict[str, str] = {
    # Running: a runtime (what outlives one run) and episodes from it; a task judged; a suite.
    "Runtime": "cradle.runtime",
    "RuntimeSettings": "cradle.runtime",
    "ModelSettings": "cradle.runtime",
    "MemorySettings": "cradle.runtime",
    "SafetySettings": "cradle.runtime",
    "AgentSettings": "cradle.agent",
    "Agent": "cradle.agent",
    "Episode": "cradle.episode",
    "EpisodeSettings": "cradle.episode",
    "open_episode": "cradle.episode",
    "Session": "cradle.session",
    "run_task": "cradle.task_episode",
    "load_tasks": "cradle.tasks.loader",
    "EvalOptions": "cradle.eval.options",
    "run_eval": "cradle.eval.harness",
    # What runs produce and take.
    "Task": "cradle.types",
    "TaskResult": "cradle.types",
    "RunResult": "cradle.types",
    "StepRecord": "cradle.types",
    "Element": "cradle.types",
    # Extending: an environment, a skill, a model provider, an element provider, a perceiver,
    # a memory backend, a screen.
    "Environment": "cradle.environment",
    "skill": "cradle.skills.decorator",
    "SkillContext": "cradle.skills.context",
    "ModelProvider": "cradle.llm.base",
    "ModelRequest": "cradle.llm.base",
    "ModelReply": "cradle.llm.base",
    "ElementProvider": "cradle.elements.base",
    "Perceiver": "cradle.perception",
    "LongTermMemory": "cradle.modules.memory",
    "Screen": "cradle.screen.base",
    # Errors: one tree; a skill raises SkillFeedback to tell the model why it could not act.
    "CradleError": "cradle.errors",
    "UsageError": "cradle.errors",
    "SkillExecutionError": "cradle.errors",
    "SkillFeedback": "cradle.errors",
}
"""Where each public name is defined (its module is imported on first use)."""

__all__ = [
    "Agent",
    "AgentSettings",
    "CradleError",
    "Element",
    "ElementProvider",
    "Environment",
    "Episode",
    "EpisodeSettings",
    "EvalOptions",
    "LongTermMemory",
    "MemorySettings",
    "ModelProvider",
    "ModelReply",
    "ModelRequest",
    "ModelSettings",
    "Perceiver",
    "RunResult",
    "Runtime",
    "RuntimeSettings",
    "SafetySettings",
    "Screen",
    "Session",
    "SkillContext",
    "SkillExecutionError",
    "SkillFeedback",
    "StepRecord",
    "Task",
    "TaskResult",
    "UsageError",
    "__version__",
    "load_tasks",
    "open_episode",
    "run_eval",
    "run_task",
    "skill",
]

if TYPE_CHECKING:  # editors and type checkers resolve the names without running __getattr__
    from cradle.agent import Agent, AgentSettings
    from cradle.elements.base import ElementProvider
    from cradle.environment import Environment
    from cradle.episode import Episode, EpisodeSettings, open_episode
    from cradle.errors import CradleError, SkillExecutionError, SkillFeedback, UsageError
    from cradle.eval.harness import run_eval
    from cradle.eval.options import EvalOptions
    from cradle.llm.base import ModelProvider, ModelReply, ModelRequest
    from cradle.modules.memory import LongTermMemory
    from cradle.perception import Perceiver
    from cradle.runtime import (
        MemorySettings,
        ModelSettings,
        Runtime,
        RuntimeSettings,
        SafetySettings,
    )
    from cradle.screen.base import Screen
    from cradle.session import Session
    from cradle.skills.context import SkillContext
    from cradle.skills.decorator import skill
    from cradle.task_episode import run_task
    from cradle.tasks.loader import load_tasks
    from cradle.types import Element, RunResult, StepRecord, Task, TaskResult


def __getattr__(name: str) -> object:
    """A public name, imported from the module that defines it when first asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cradle' has no attribute {name!r}")
    return getattr(import_module(home), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
