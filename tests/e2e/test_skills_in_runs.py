"""Skills inside real runs: hostile actions are refused, curated skills become callable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cradle.agent import AgentSettings
from cradle.llm.scripted import ScriptedModel
from cradle.session import MemorySettings, Session, SessionSettings

HOSTILE = [
    "click(x=__import__('os').system('touch PWNED'), y=1)",
    "type_text(text=open('/etc/hostname').read())",
    "no_such_skill()",
    "type_text(text='safe text')",
]

NEW_SKILL = '''from cradle.skills import skill


@skill
def write_signature(screen, name: str) -> None:
    """Type a two-line signature with the given name.

    Args:
        name: The name to sign with.
    """
    type_text(text="Regards,")
    press_key(key="enter")
    type_text(text=name)
'''


def _fused(
    actions: list[str],
    *,
    done: bool = False,
    new_skills: list[str] | None = None,
    reflection: str = "ok",
) -> dict:
    return {
        "information_gathering": {
            "screen_description": "notepad",
            "visible_text": [],
            "elements": [],
        },
        "self_reflection": {
            "last_actions_succeeded": True,
            "analysis": reflection,
            "failure_reason": "",
        },
        "task_inference": {"subtask": "type", "reasoning": "r"},
        "skill_curation": {"relevant_skills": [], "new_skills": new_skills or []},
        "action_planning": {"reasoning": "r", "actions": actions, "done": done},
    }


def _session(tmp_path: Path, model: ScriptedModel) -> Session:
    settings = SessionSettings(
        env="mock-notepad",
        task="type some text",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=tmp_path / "generated",
        agent=AgentSettings(mode="fused", max_steps=3),
        memory=MemorySettings(enabled=False),
    )
    return Session(settings, model=model)


def _steps(session: Session) -> list[dict]:
    assert session.recorder is not None
    path = session.recorder.folder / "trajectory.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_hostile_actions_are_refused_and_the_run_goes_on(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    model = ScriptedModel([_fused(HOSTILE), _fused([], done=True)])
    session = _session(tmp_path, model)
    result = session.run()
    assert result.exit_code == 0
    assert not (tmp_path / "PWNED").exists()
    assert session.environment.state()["text"] == "safe text"

    outcomes = _steps(session)[0]["actions"]
    assert [o["status"] for o in outcomes] == ["rejected", "rejected", "rejected", "ok"]
    assert "dunder" in outcomes[0]["error"] or "__import__" in outcomes[0]["error"]
    assert "nested calls are not allowed" in outcomes[1]["error"]
    assert "unknown skill 'no_such_skill'" in outcomes[2]["error"]

    # The reasons reach the model on the next step, through the prompt.
    second_prompt = model.requests[1].user
    for outcome in outcomes[:3]:
        assert outcome["error"] in second_prompt


def test_curated_skill_is_saved_listed_and_callable_next_step(tmp_path: Path) -> None:
    model = ScriptedModel(
        [
            _fused(["type_text(text='Hi')", "press_key(key='enter')"], new_skills=[NEW_SKILL]),
            _fused(["write_signature(name='Ada')"]),
            _fused([], done=True),
        ]
    )
    session = _session(tmp_path, model)
    assert session.run().exit_code == 0
    assert session.environment.state()["text"] == "Hi\nRegards,\nAda"

    steps = _steps(session)
    verdict = steps[0]["new_skills"][0]
    assert verdict["accepted"] is True and verdict["names"] == ["write_signature"]
    saved = tmp_path / "generated" / "write_signature.py"
    assert saved.is_file()
    header = saved.read_text()
    assert session.recorder.run_id in header and "type some text" in header
    assert "write_signature(name: str)" in model.requests[1].user  # the planner saw it
    assert steps[1]["actions"][0]["status"] == "ok"

    listing = subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "skills",
            "list",
            "--generated-skills-dir",
            str(tmp_path / "generated"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert listing.returncode == 0, listing.stderr
    assert "write_signature" in listing.stdout and "[generated]" in listing.stdout


def test_rejected_proposal_is_recorded_with_its_reason(tmp_path: Path) -> None:
    evil = NEW_SKILL.replace('type_text(text="Regards,")', "open('/tmp/x', 'w')")
    model = ScriptedModel([_fused([], new_skills=[evil]), _fused([], done=True)])
    session = _session(tmp_path, model)
    assert session.run().exit_code == 0
    verdict = _steps(session)[0]["new_skills"][0]
    assert verdict["accepted"] is False and "open" in verdict["reason"]
    assert not (tmp_path / "generated" / "write_signature.py").exists()
