"""The parts an episode is built from once its screen is up, each from the pieces it needs.

:class:`~cradle.episode.Episode` owns the run (start, loop, close); these functions build what
its agent works with: the action policy, the action runner (the episode's skills, from
:mod:`cradle.episode_skills`, bound to its screen, policy, secrets and statistics) and the
memory. They keep no state, so
an episode's parts never reach another episode's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cradle.environment import Environment
from cradle.episode_skills import GENERATED_DIR, episode_skills
from cradle.gate.policy import ActionPolicy, Confirmer
from cradle.gate.runner import ActionRunner
from cradle.modules import Memory
from cradle.perception import Perceiver
from cradle.runtime import Runtime, RuntimeSettings, SafetySettings
from cradle.screen.base import Screen
from cradle.trajectory.recorder import RunRecorder
from cradle.types import StepRecord


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
    """The episode's skills (:func:`~cradle.episode_skills.episode_skills`) bound to its
    screen, policy, secrets and statistics; its own folder is made now, so the skills it
    accepts can be saved there."""
    from cradle.skills.stats import SkillStats

    (recorder.folder / GENERATED_DIR).mkdir(parents=True, exist_ok=True)
    skills = episode_skills(
        environment,
        run_folder=recorder.folder,
        run_id=recorder.run_id,
        shared_generated=settings.generated_skills_dir,
        perceiver=perceiver,
        home=home,
        grounder=runtime.grounder,
    )
    return ActionRunner(
        registry=skills.registry,
        screen=screen,
        generated_dir=skills.generated_dir,
        run_id=recorder.run_id,
        episode=skills.episode,
        stats=SkillStats(settings.stats_path) if settings.skill_stats else None,
        policy=action_policy(settings.safety, environment, runtime.confirmer),
        secrets=runtime.secrets,
        ranker=runtime.skill_ranker(list(skills.always_on)),
        dry_run=settings.safety.dry_run,
    )


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
