"""The parts an episode is built from once its screen is up, each from the pieces it needs.

:class:`~cradle.episode.Episode` owns the run (start, loop, close); these functions build what
its agent works with: the action policy, the action runner (the episode's skills bound to its
screen, policy, secrets and statistics), the perceiver and the memory. They keep no state, so
an episode's parts never reach another episode's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cradle.agent import AgentSettings
from cradle.computer_use.base import ActionPlanner
from cradle.environment import Environment
from cradle.gate.policy import ActionPolicy, Confirmer
from cradle.gate.runner import ActionRunner
from cradle.modules import Memory
from cradle.perception import Perceiver
from cradle.runtime import Runtime, RuntimeSettings, SafetySettings
from cradle.screen.base import Screen
from cradle.trajectory.recorder import RunRecorder
from cradle.types import StepRecord

GENERATED_DIR = "generated_skills"
"""The episode's own skills folder, inside its run folder."""


def action_policy(
    safety: SafetySettings, environment: Environment, confirmer: Confirmer
) -> ActionPolicy:
    """The run's safety settings narrowed by what the environment allows and denies."""
    allow = set(safety.allow_skills) if safety.allow_skills is not None else None
    if environment.allowed_skills is not None:
        env_allow = set(environment.allowed_skills)
        allow = env_allow if allow is None else allow & env_allow
    return ActionPolicy(
        confirm=safety.confirm,
        risky_skills=frozenset(environment.risky_skills),
        allow=frozenset(allow) if allow is not None else None,
        deny=frozenset(safety.deny_skills) | frozenset(environment.denied_skills),
        confirmer=confirmer,
    )


def build_actions(
    runtime: Runtime,
    settings: RuntimeSettings,
    environment: Environment,
    recorder: RunRecorder,
    *,
    screen: Screen,
    perceiver: Perceiver | None,
    home: Path | None,
) -> ActionRunner:
    """The episode's skills bound to its screen, policy, secrets and statistics: the trusted
    folders, the shared generated folder, and the episode's own (in its run folder), where
    the skills it accepts are saved."""
    from cradle.paths import shared_skills_dir
    from cradle.skills import SkillRegistry
    from cradle.skills.context import EpisodeView
    from cradle.skills.stats import SkillStats

    own = recorder.folder / GENERATED_DIR
    own.mkdir(parents=True, exist_ok=True)
    shared = settings.generated_skills_dir
    untrusted = [shared] if shared is not None and shared.is_dir() else []
    registry = SkillRegistry.load(
        trusted=runtime.skill_folders(environment), untrusted=[*untrusted, own]
    )
    common = shared_skills_dir().resolve()
    always_on = [
        skill.name for skill in registry if Path(skill.source_file).resolve().parent == common
    ]
    return ActionRunner(
        registry=registry,
        screen=screen,
        generated_dir=own,
        run_id=recorder.run_id,
        episode=EpisodeView(
            environment=environment,
            perceiver=perceiver,
            home=home,
            run_id=recorder.run_id,
            grounder=runtime.grounder,
        ),
        stats=SkillStats(settings.stats_path) if settings.skill_stats else None,
        policy=action_policy(settings.safety, environment, runtime.confirmer),
        secrets=runtime.secrets,
        ranker=runtime.skill_ranker(always_on),
        dry_run=settings.safety.dry_run,
    )


def episode_perceiver(
    environment: Environment, agent: AgentSettings, planner: ActionPlanner | None
) -> Perceiver | None:
    """The environment's perceiver; OCR alone for a model without vision on an environment
    that perceives nothing itself. A computer-use planner clicks on the clean screenshot, so
    it gets no numbered marks (they only help a model that picks marks)."""
    perceiver = environment.perceiver()
    if perceiver is None and not agent.vision:
        perceiver = text_perceiver()
    if planner is not None and getattr(perceiver, "marks", False):
        perceiver.marks = False  # type: ignore[union-attr]
    return perceiver


def episode_memory(
    runtime: Runtime, settings: RuntimeSettings, environment: str, history: Sequence[StepRecord]
) -> Memory:
    """The recent-steps window and the long-term store for ``environment``, holding the steps
    already recorded (a resumed run continues from them)."""
    memory = Memory(
        window=settings.memory.window,
        long_term=runtime.long_term_for(environment),
        recall_k=settings.memory.recall_k,
    )
    memory.preload(list(history))
    return memory


def text_perceiver() -> Perceiver:
    """OCR alone, for a model without vision on an environment that perceives nothing itself
    (the mocks): the screen's text with its coordinates is all such a model can read."""
    from cradle.vision.perceiver import VisionPerceiver

    return VisionPerceiver(marks=False, ocr=True)
