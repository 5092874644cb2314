"""Episodes: one run from a runtime, its own skills folder, a fresh start, promotion at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cradle.agent import AgentSettings
from cradle.environment import load_environment
from cradle.episode import Episode, EpisodeSettings
from cradle.errors import SetupFailed
from cradle.llm.scripted import ScriptedModel
from cradle.runtime import MemorySettings, Runtime, RuntimeSettings
from cradle.tasks.setup import EpisodePlace
from cradle.types import Task

FILLER = {
    "information_gathering": {
        "screen_description": "A notepad.",
        "visible_text": [],
        "elements": [],
    },
    "self_reflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
    "task_inference": {"subtask": "next", "reasoning": "script"},
}


def fused(actions: list[str], *, done: bool = False, new_skills: list[str] = ()) -> dict:
    return {
        **FILLER,
        "skill_curation": {"relevant_skills": [], "new_skills": list(new_skills)},
        "action_planning": {"reasoning": "scripted", "actions": actions, "done": done},
    }


def runtime_settings(tmp_path: Path, **changes: Any) -> RuntimeSettings:
    return RuntimeSettings(
        generated_skills_dir=tmp_path / "shared-skills",
        skill_stats=False,
        memory=MemorySettings(enabled=False),
        agent=AgentSettings(mode="fused", settle_seconds=0),
        **changes,
    )


def hello_task(**changes: Any) -> Task:
    fields: dict[str, Any] = {
        "id": "notepad-hello",
        "instruction": "Type hello",
        "environment": "mock-notepad",
        "check": [{"state": {"text": "hello"}}],
        "max_steps": 3,
        "timeout": 60,
    }
    return Task.model_validate({**fields, **changes})


def test_reset_closes_runs_the_setup_in_the_episode_home_then_starts(tmp_path: Path) -> None:
    environment = load_environment("mock-notepad")
    calls: list[str] = []
    start = environment.start
    environment.close = lambda: calls.append("close")  # type: ignore[method-assign]
    environment.start = lambda: calls.append("start") or start()  # type: ignore[method-assign]
    place = EpisodePlace.create(tmp_path / "episode", display=None)
    task = hello_task(setup=[{"run": "echo $HOME > ~/home.txt; echo $PWD >> ~/home.txt"}])
    screen = environment.reset(task, place)
    assert calls == ["close", "start"] and screen.capture().size == (1024, 768)
    assert (place.home / "home.txt").read_text().split() == [str(place.home)] * 2
    assert environment.place is place
    with pytest.raises(SetupFailed, match=r"setup step 1 \(run\): exit 2"):
        environment.reset(hello_task(setup=[{"run": "exit 2"}]), place)
    assert calls[-1] == "close"  # a failed setup does not start the environment


def test_an_episode_keeps_its_environment_until_closed(tmp_path: Path) -> None:
    settings = EpisodeSettings(
        env="mock-notepad",
        task="t",
        runs_dir=tmp_path / "runs",
        **runtime_settings(tmp_path).model_dump(),
    )
    model = ScriptedModel({"fused": [fused(["type_text(text='kept')"], done=True)]})
    with Runtime(settings, model=model) as runtime:
        episode = Episode(runtime, settings)
        result = episode.loop(episode.create_recorder())
        assert result.status == "done"
        assert episode.environment.state()["text"] == "kept"
        assert episode.final_screen() is not None
        episode.close()
        assert not runtime.closed  # the episode does not own this runtime


@pytest.mark.parametrize("limit", [2, 30])
def test_the_task_bounds_steps_and_wall_time(tmp_path: Path, limit: int) -> None:
    base = runtime_settings(tmp_path).model_copy(
        update={"agent": AgentSettings(max_steps=50, max_seconds=limit)}
    )
    settings = EpisodeSettings.for_task(base, hello_task(), tmp_path)
    assert settings.agent.max_steps == 3
    assert settings.agent.max_seconds == min(limit, 60)
    assert (settings.env, settings.task, settings.task_id) == (
        "mock-notepad",
        "Type hello",
        "notepad-hello",
    )


NEW_SKILL = '''from cradle.skills import skill


@skill
def write_signature(screen, name: str) -> None:
    """Type a signature with the given name.

    Args:
        name: The name to sign with.
    """
    type_text(text="Regards, " + name)
'''


def _episode(runtime: Runtime, tmp_path: Path, replies: list[dict]) -> tuple[Episode, Any]:
    settings = EpisodeSettings(
        env="mock-notepad", task="sign", runs_dir=tmp_path / "runs", **runtime.settings.model_dump()
    )
    model = ScriptedModel({"fused": replies})
    return Episode(runtime, settings, model=model), model


def test_new_skills_stay_in_their_episode_until_promoted(tmp_path: Path) -> None:
    shared = tmp_path / "shared-skills"
    with Runtime(runtime_settings(tmp_path), model=ScriptedModel([])) as runtime:
        writer, _ = _episode(
            runtime,
            tmp_path,
            [fused([], new_skills=[NEW_SKILL]), fused(["write_signature(name='Ada')"], done=True)],
        )
        other, other_model = _episode(
            runtime, tmp_path, [fused(["write_signature(name='Bob')"]), fused([], done=True)]
        )
        assert writer.loop(writer.create_recorder()).status == "done"
        assert writer.environment.state()["text"] == "Regards, Ada"
        own = writer.generated_dir
        assert own is not None and (own / "write_signature.py").is_file()
        assert not shared.exists() or not list(shared.glob("*.py"))

        # Another episode that exists at the same time does not see it.
        other.loop(other.create_recorder())
        assert other.environment.state()["text"] == ""
        assert "write_signature" not in other_model.requests[0].user
        steps = (Path(other.recorder.folder) / "trajectory.jsonl").read_text()
        assert "unknown skill 'write_signature'" in steps

        writer.close(promote=True)  # the episode ended: its skill joins the shared folder
        other.close(promote=True)
        promoted = shared / "write_signature.py"
        assert promoted.is_file() and writer.recorder.run_id in promoted.read_text()
        assert writer.promotion is not None and writer.promotion.promoted == [promoted]

        later, later_model = _episode(
            runtime, tmp_path, [fused(["write_signature(name='Cy')"], done=True)]
        )
        assert later.run().status == "done"
        assert "write_signature(name: str)" in later_model.requests[0].user
        assert later.environment.state()["text"] == "Regards, Cy"


def test_promotion_keeps_a_clashing_skill_in_its_run_folder(tmp_path: Path) -> None:
    from cradle.skills.promotion import promote

    own, shared = tmp_path / "own", tmp_path / "shared"
    own.mkdir()
    shared.mkdir()
    (shared / "write_signature.py").write_text(NEW_SKILL.replace("Regards", "Cheers"))
    (own / "write_signature.py").write_text(NEW_SKILL)
    (own / "again.py").write_text(NEW_SKILL.replace("Regards", "Cheers"))  # already there
    result = promote(own, shared, run_id="r1", task="t")
    assert result.promoted == []
    assert len(result.refused) == 1 and "already defined" in result.refused[0]
    assert sorted(p.name for p in shared.iterdir()) == ["write_signature.py"]
    assert (own / "write_signature.py").is_file()
