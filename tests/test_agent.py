"""The loop (``cradle.agent``) on the mocked notepad with scripted fused replies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cradle.agent import AgentSettings
from cradle.llm.scripted import ScriptedModel
from cradle.session import MemorySettings, Session, SessionSettings
from cradle.trajectory.loader import load_run
from cradle.types import StepRecord


def fused_reply(actions: list[str], done: bool = False) -> dict[str, Any]:
    """One fused reply that plans ``actions``."""
    return {
        "information_gathering": {
            "screen_description": "Notepad",
            "visible_text": [],
            "elements": [],
        },
        "self_reflection": {"last_actions_succeeded": True, "analysis": "", "failure_reason": ""},
        "task_inference": {"subtask": "wait for it", "reasoning": ""},
        "skill_curation": {"relevant_skills": [], "new_skills": []},
        "action_planning": {"reasoning": "", "actions": actions, "done": done},
    }


def run_fused(
    tmp_path: Path, replies: list[dict], **agent: Any
) -> tuple[ScriptedModel, list[StepRecord]]:
    """A fused run on mock-notepad with these replies; the model and the recorded steps."""
    model = ScriptedModel({"fused": replies})
    settings = SessionSettings(
        env="mock-notepad",
        task="wait for the editor",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=None,
        memory=MemorySettings(enabled=False),
        stats_path=tmp_path / "stats.json",
        agent=AgentSettings(mode="fused", max_steps=8, **agent),
    )
    result = Session(settings, model=model).run()
    return model, load_run(result.run_dir).steps


def test_each_step_records_where_its_time_went(tmp_path: Path) -> None:
    _, steps = run_fused(
        tmp_path, [fused_reply(["type_text(text='a')"]), fused_reply([], done=True)]
    )
    first = steps[0].timings_ms
    for stage in (
        "capture",
        "digest",
        "downscale",
        "skills",
        "memory_recall",
        "decide",
        "actions",
        "total",
        "model",
    ):
        assert stage in first
    assert first["total"] >= first["decide"] >= 0
    assert "downscale" not in steps[1].timings_ms or steps[1].observation.changed
