"""The skills and the perceiver of an episode, as its settings and run folder decide them.

Nothing here needs a model: a live episode (:mod:`cradle.episode_parts`) binds the result to
its policy, secrets and ranker, and a replay (:mod:`cradle.playback.replay`) runs the recorded
actions with it, so a replay runs the same skills and perceives the same way as the run did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cradle.computer_use.grounding import Grounder
from cradle.environment import Environment
from cradle.perception import Perceiver
from cradle.skills.context import EpisodeView
from cradle.skills.registry import SkillRegistry

GENERATED_DIR = "generated_skills"
"""The episode's own skills folder, inside its run folder."""


@dataclass(frozen=True)
class EpisodeSkills:
    """What an episode's actions are made of, before a screen and a policy are bound."""

    registry: SkillRegistry
    generated_dir: Path
    """The episode's own skills folder (in its run folder), where accepted skills are saved."""
    episode: EpisodeView
    always_on: tuple[str, ...]
    """The shared skills, offered every step whatever the ranker picks."""

    @property
    def perceiver(self) -> Perceiver | None:
        return self.episode.perceiver


def episode_skills(
    environment: Environment,
    *,
    run_folder: Path,
    run_id: str,
    shared_generated: Path | None,
    perceiver: Perceiver | None,
    home: Path | None = None,
    grounder: Grounder | None = None,
) -> EpisodeSkills:
    """The trusted folders (the shared one, then the environment's), the shared generated
    folder and the episode's own (both untrusted), and the view its skills get of it."""
    from cradle.paths import shared_skills_dir

    own = run_folder / GENERATED_DIR
    untrusted = [
        folder for folder in (shared_generated, own) if folder is not None and folder.is_dir()
    ]
    common = shared_skills_dir()
    registry = SkillRegistry.load(
        trusted=[common, *environment.skill_folders()], untrusted=untrusted
    )
    resolved = common.resolve()
    always_on = tuple(
        skill.name for skill in registry if Path(skill.source_file).resolve().parent == resolved
    )
    view = EpisodeView(
        environment=environment, perceiver=perceiver, home=home, run_id=run_id, grounder=grounder
    )
    return EpisodeSkills(registry=registry, generated_dir=own, episode=view, always_on=always_on)


def episode_perceiver(environment: Environment, *, vision: bool, planned: bool) -> Perceiver | None:
    """The environment's perceiver; OCR alone for a model without vision on an environment
    that perceives nothing itself. A computer-use planner (``planned``) clicks on the clean
    screenshot, so it gets no numbered marks (they only help a model that picks marks)."""
    perceiver = environment.perceiver(marks=not planned)
    if perceiver is None and not vision:
        perceiver = text_perceiver()
    return perceiver


def text_perceiver() -> Perceiver:
    """OCR alone, for a model without vision on an environment that perceives nothing itself
    (the mocks): the screen's text with its coordinates is all such a model can read."""
    from cradle.vision.perceiver import VisionPerceiver

    return VisionPerceiver(marks=False, ocr=True)
