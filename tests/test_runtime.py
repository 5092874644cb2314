"""The runtime: what outlives an episode, shared by the episodes run from it, closed once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cradle.environment import load_environment
from cradle.episode import Episode, EpisodeSettings
from cradle.errors import UsageError
from cradle.llm.scripted import ScriptedModel
from cradle.runtime import (
    MemorySettings,
    ModelSettings,
    Runtime,
    RuntimeSettings,
    _EpisodeSkillIndex,
    _SharedSkillIndex,
)
from cradle.screen.mock import MockScreen


class ClosingModel(ScriptedModel):
    def __init__(self) -> None:
        super().__init__([])
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class FakeStore:
    """Stands in for the vector store: an ``environment`` tag and a ``close``."""

    def __init__(self) -> None:
        self.environment = ""
        self.closed = 0
        self.remembered: list[tuple[str, str]] = []

    def recall(self, query: str, *, k: int) -> list[Any]:
        return []

    def remember_run(self, task: str, run_id: str, summary: str, success: bool) -> None:
        self.remembered.append((self.environment, task))

    def close(self) -> None:
        self.closed += 1


def settings(tmp_path: Path, **changes: Any) -> RuntimeSettings:
    return RuntimeSettings(
        memory=MemorySettings(enabled=False),
        skill_stats=False,
        generated_skills_dir=tmp_path / "skills",
        **changes,
    )


def test_the_runtime_closes_its_model_once_and_says_so(tmp_path: Path) -> None:
    model = ClosingModel()
    with Runtime(settings(tmp_path), model=model) as runtime:
        assert not runtime.closed
    runtime.close()  # closing twice is harmless
    assert runtime.closed and model.closed == 1


def test_a_bad_setting_closes_what_was_opened(tmp_path: Path) -> None:
    model = ClosingModel()
    prices = tmp_path / "prices.json"
    prices.write_text("{not json")
    with pytest.raises(UsageError):
        Runtime(settings(tmp_path, model=ModelSettings(prices_file=prices)), model=model)
    assert model.closed == 1


def test_prompts_are_built_once_per_environment(tmp_path: Path) -> None:
    notepad = load_environment("mock-notepad")
    with Runtime(settings(tmp_path), model=ScriptedModel([])) as runtime:
        assert runtime.prompts(notepad) is runtime.prompts(load_environment("mock-notepad"))


def test_each_environment_gets_a_tagged_view_of_one_store(tmp_path: Path) -> None:
    store = FakeStore()
    runtime = Runtime(settings(tmp_path), model=ScriptedModel([]))
    runtime.store = runtime.long_term = store  # as if opened from --memory-dir
    notepad = runtime.long_term_for("mock-notepad")
    calculator = runtime.long_term_for("mock-calculator")
    assert notepad is runtime.long_term_for("mock-notepad")
    notepad.remember_run("a", "r1", "", True)
    calculator.remember_run("b", "r2", "", True)
    assert store.remembered == [("mock-notepad", "a"), ("mock-calculator", "b")]
    assert store.environment == ""
    runtime.close()
    assert store.closed == 1  # the views share the store; it is closed once


class CountingIndex:
    def __init__(self) -> None:
        self.synced: list[list[str]] = []
        self.names: list[str] = []

    def sync(self, skills: dict[str, str]) -> None:
        self.synced.append(sorted(skills))
        self.names = sorted(skills)

    def rank(self, query: str, k: int = 5) -> list[str]:
        return self.names[:k]


def test_episodes_rank_over_their_own_skills_on_a_shared_index() -> None:
    index = CountingIndex()
    shared = _SharedSkillIndex(index)
    first, second = _EpisodeSkillIndex(shared), _EpisodeSkillIndex(shared)
    first.sync({"a": "a", "mine": "first's own skill"})
    second.sync({"a": "a", "b": "b"})
    assert first.rank("q") == ["a", "mine"]  # re-synced: the other episode changed the set
    assert first.rank("q") == ["a", "mine"]
    assert len(index.synced) == 3  # unchanged sets cost nothing


def test_two_episodes_of_one_runtime_have_their_own_skills_and_screens(tmp_path: Path) -> None:
    with Runtime(settings(tmp_path), model=ScriptedModel([])) as runtime:
        episodes = []
        for name in ("one", "two"):
            episode = Episode(
                runtime,
                EpisodeSettings(
                    env="mock-notepad",
                    task=name,
                    runs_dir=tmp_path / "runs",
                    **runtime.settings.model_dump(),
                ),
            )
            episode.recorder = episode.create_recorder()
            screen = episode.environment.start()
            episodes.append((episode, screen, episode.build_actions(screen, None)))
        (one, screen_one, actions_one), (two, screen_two, actions_two) = episodes
        assert isinstance(screen_one, MockScreen) and screen_one is not screen_two
        assert actions_one.registry is not actions_two.registry
        assert actions_one.registry.names() == actions_two.registry.names()
        assert actions_one.generated_dir != actions_two.generated_dir
        assert actions_one.generated_dir.parent == one.recorder.folder
        for episode, _, _ in episodes:
            episode.close()
        assert not runtime.closed


def test_the_shared_generated_skills_folder_is_recorded_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay or resume started from another folder loads the folder the run had."""
    from cradle.runtime import RuntimeSettings

    monkeypatch.chdir(tmp_path)
    settings = RuntimeSettings(generated_skills_dir=Path("generated_skills"))
    assert settings.generated_skills_dir == tmp_path / "generated_skills"
    dumped = settings.model_dump(mode="json")["generated_skills_dir"]
    assert Path(dumped).is_absolute()
    assert RuntimeSettings(generated_skills_dir=None).generated_skills_dir is None
