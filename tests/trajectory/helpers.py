"""Shared helpers for trajectory tests: a recorded run made offline, fake-server replies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cradle.demo import run_demo
from cradle.trajectory.loader import LoadedRun, load_run

ROOT = Path(__file__).resolve().parents[2]


def demo_run(tmp_path: Path, mode: str = "modular") -> LoadedRun:
    """The offline demo (scripted model, mock notepad): 5 steps ending with hello.txt saved."""
    result = run_demo(runs_dir=tmp_path / "runs", mode=mode)
    assert result.exit_code == 0, result
    return load_run(result.run_dir)


def cradle_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """The `cradle` command in a real process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_BASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cradle", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _element(label: str, role: str, x: int, y: int) -> dict:
    return {"label": label, "role": role, "x": x, "y": y}


SAVE_PLANS = [
    ["type_text(text='Notes from the fake model')"],
    ["click(x=55, y=64)"],
    ["click(x=165, y=163)"],
    ["type_text(text='notes.txt')", "click(x=564, y=443)"],
    [],
]
"""A notepad session: type, File menu, Save As..., name and Save, done (1024x768 pixels)."""


def module_reply(schema: str, step: int, plans: list[list[str]] = SAVE_PLANS) -> dict:
    """What a good model answers for ``schema`` at ``step`` (1-based) of ``plans``."""
    actions = plans[min(step, len(plans)) - 1]
    done = step >= len(plans)
    replies = {
        "InformationGathering": {
            "screen_description": f"Notepad at step {step}.",
            "visible_text": ["Notepad"],
            "elements": [_element("File", "menu", 55, 64)],
        },
        "SelfReflection": {
            "last_actions_succeeded": True,
            "analysis": "It worked.",
            "failure_reason": "",
        },
        "TaskInference": {"subtask": f"part {step}", "reasoning": "next"},
        "SkillCuration": {"relevant_skills": ["click"], "new_skills": []},
        "ActionPlan": {"reasoning": f"do part {step}", "actions": actions, "done": done},
    }
    if schema == "FusedStep":
        return {
            "information_gathering": replies["InformationGathering"],
            "self_reflection": replies["SelfReflection"],
            "task_inference": replies["TaskInference"],
            "skill_curation": replies["SkillCuration"],
            "action_planning": replies["ActionPlan"],
        }
    return replies[schema]


class StepCountingServer:
    """Fake-server handler: counts action plans to know the step; answers ``module_reply``."""

    def __init__(self, plans: list[list[str]] = SAVE_PLANS) -> None:
        self.plans = plans
        self.step = 1

    def __call__(self, body: dict) -> dict:
        name = body["response_format"]["json_schema"]["name"]
        reply = module_reply(name, self.step, self.plans)
        if name in ("ActionPlan", "FusedStep"):
            self.step += 1
        return reply
