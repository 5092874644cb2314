"""What an episode's agent is built from: the policy narrowed by the environment, and the
perceiver chosen for the model and planner in use."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cradle.environment import load_environment
from cradle.episode_parts import action_policy
from cradle.episode_skills import episode_perceiver, episode_skills
from cradle.runtime import SafetySettings
from cradle.vision.perceiver import VisionPerceiver


def environment(**fields: Any) -> Any:
    """The parts of an environment the builders read, and nothing else."""
    defaults: dict[str, Any] = {
        "allowed_skills": None,
        "risky_skills": frozenset(),
        "denied_skills": frozenset(),
        "perceiver": lambda marks=True: None,
    }
    return SimpleNamespace(**{**defaults, **fields})


def yes(prompt: str) -> bool:
    return True


def test_the_environment_narrows_what_the_settings_allow_and_adds_what_it_denies() -> None:
    env = environment(
        allowed_skills=frozenset({"click", "wait", "hotkey"}),
        risky_skills=frozenset({"click"}),
        denied_skills=frozenset({"hotkey"}),
    )
    safety = SafetySettings(allow_skills=["click", "wait", "scroll"], deny_skills=["wait"])
    policy = action_policy(safety, env, yes)
    assert policy.allow == frozenset({"click", "wait"})
    assert policy.deny == frozenset({"wait", "hotkey"})
    assert policy.risky_skills == frozenset({"click"}) and policy.confirm == safety.confirm


def test_an_allow_list_comes_from_whichever_side_gives_one() -> None:
    only_env = action_policy(SafetySettings(), environment(allowed_skills={"click"}), yes)
    assert only_env.allow == frozenset({"click"})
    assert action_policy(SafetySettings(), environment(), yes).allow is None


def test_a_model_without_vision_reads_the_screen_text_where_nothing_else_perceives() -> None:
    blind = episode_perceiver(environment(), vision=False, planned=False)
    assert isinstance(blind, VisionPerceiver) and not blind.marks
    assert episode_perceiver(environment(), vision=True, planned=False) is None


def test_a_computer_use_planner_gets_the_screenshot_without_marks() -> None:
    def marked(marks: bool = True) -> VisionPerceiver:
        return VisionPerceiver(marks=marks)

    with_planner = episode_perceiver(environment(perceiver=marked), vision=True, planned=True)
    assert isinstance(with_planner, VisionPerceiver) and not with_planner.marks
    alone = episode_perceiver(environment(perceiver=marked), vision=True, planned=False)
    assert isinstance(alone, VisionPerceiver) and alone.marks


def test_an_episode_loads_the_shared_skills_then_its_environments(tmp_path: Path) -> None:
    """The shared folder's skills are the ones always offered; the environment's own load too."""
    notepad = load_environment("mock-notepad")
    skills = episode_skills(
        notepad, run_folder=tmp_path, run_id="r", shared_generated=None, perceiver=None
    )
    assert skills.registry.get("close_window") is not None  # mock-notepad's own
    assert "click" in skills.always_on and "close_window" not in skills.always_on
