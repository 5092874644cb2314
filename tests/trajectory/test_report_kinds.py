"""The report renders every kind of step a run records, each visibly.

Runs where a proposed skill was rejected used to crash ``cradle report`` (a rejected verdict
has no ``names``). The run below holds each outcome the loop records: ok, invalid, refused by
policy, not confirmed, refused beyond the plan cap, failed, skipped, planned in a dry run,
timed out, proposed skills accepted and rejected, a model error, a step without a model call,
a cut-off field, done, and a last line cut off by a crash.
"""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path
from typing import get_args

from cradle.agent import AgentSettings
from cradle.llm.scripted import ScriptedModel
from cradle.session import MemorySettings, SafetySettings, Session, SessionSettings
from cradle.trajectory.loader import LoadedRun, load_run
from cradle.trajectory.report import render_report
from cradle.types import ActionStatus, RunStatus, StepRecord
from tests.reliability.helpers import FILLER
from tests.trajectory.helpers import cradle_cli

GOOD_SKILL = '''from cradle.skills import skill


@skill
def sign(screen, name: str) -> None:
    """Type a name.

    Args:
        name: The name to type.
    """
    type_text(text=name)
'''
BAD_SKILL = "import os\nos.system('touch PWNED')\n"
LONG = 100_000

KINDS = {
    "ok": "type_text(text=&#39;hi&#39;)",
    "invalid action": "unknown skill &#39;no_such_skill&#39;",
    "refused by policy": "not allowed in this environment",
    "not confirmed": "needs confirmation and there is no terminal",
    "refused beyond the plan cap": "at most 5 run in one step (--max-actions)",
    "failed": "no mark 99 on the screenshot",
    "skipped": "not run: an earlier action in this step failed",
    "timed out": "stopped after the time limit of 2 s",
    "planned in a dry run": 'class="status planned">planned',
    "skill accepted": 'class="status accepted">accepted</span> sign',
    "skill saved": "sign.py",
    "skill rejected": 'class="status rejected">rejected</span> &lt;generated',
    "skill rejection reason": "the only import allowed",
    "model error": "model: fused: reply does not fit FusedStep",
    "no model call": "no model call: the last step's wait was repeated",
    "cut-off field": f"…[truncated, {LONG} chars]",
    "done": 'class="status done">done',
    "cut-off last line": "the last line was cut off",
}


def _reply(
    actions: list[str], *, done: bool = False, skills: tuple[str, ...] = (), reasoning: str = "r"
) -> dict:
    reply = copy.deepcopy(FILLER)
    reply["skill_curation"]["new_skills"] = list(skills)
    reply["action_planning"] = {"reasoning": reasoning, "actions": actions, "done": done}
    return reply


def _session(tmp_path: Path, replies: list, **safety: object) -> Session:
    settings = SessionSettings(
        env="mock-notepad",
        task="write",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=tmp_path / "generated",
        agent=AgentSettings(mode="fused", max_steps=10, max_actions=5, idle_skips=1),
        memory=MemorySettings(enabled=False),
        safety=SafetySettings(**safety),
    )
    session = Session(settings, model=ScriptedModel(replies))
    session.run()
    return session


def _trajectory(session: Session) -> Path:
    assert session.recorder is not None
    return session.recorder.folder / "trajectory.jsonl"


def _run_with_every_kind(tmp_path: Path) -> LoadedRun:
    first = [
        "type_text(text='hi')",
        "no_such_skill()",
        "press_key(key='a')",
        "close_window()",
        "move_to(x=1, y=1)",
        "move_to(x=2, y=2)",
    ]
    session = _session(
        tmp_path,
        [
            _reply(first),
            _reply(
                ["click_label(label=99)", "type_text(text='x')"], skills=(GOOD_SKILL, BAD_SKILL)
            ),
            "not json",
            _reply(["wait(seconds=0)"], reasoning="R" * LONG),
            # step 5 repeats the wait without asking the model
            _reply([], done=True),
        ],
        deny_skills=["press_key"],
    )
    dry = _session(
        tmp_path / "dry", [_reply(["type_text(text='x')"]), _reply([], done=True)], dry_run=True
    )
    trajectory = _trajectory(session)
    steps = [StepRecord.model_validate_json(line) for line in trajectory.read_text().splitlines()]
    planned = StepRecord.model_validate_json(_trajectory(dry).read_text().splitlines()[0])
    last = steps[-1]
    extra = [
        planned.model_copy(update={"run_id": last.run_id, "step": last.step + 1}),
        steps[1].model_copy(
            update={
                "step": last.step + 2,
                "new_skills": [],
                "actions": [
                    steps[1]
                    .actions[0]
                    .model_copy(
                        update={"error": "click_label: stopped after the time limit of 2 s"}
                    )
                ],
            }
        ),
    ]
    with trajectory.open("a", encoding="utf-8") as handle:
        for record in extra:
            handle.write(record.model_dump_json() + "\n")
        handle.write('{"run_id": "cut off by a cra')  # a crash in the middle of a write
    return load_run(trajectory.parent)


def _sections(page: str) -> list[str]:
    return re.findall(r'<section class="step".*?</section>', page, flags=re.S)


def test_every_recorded_kind_of_step_is_rendered(tmp_path: Path) -> None:
    run = _run_with_every_kind(tmp_path)
    page = render_report(run)
    missing = [kind for kind, text in KINDS.items() if text not in page]
    assert not missing, missing
    assert len(_sections(page)) == len(run.steps) == 8
    shown = set(re.findall(r'<li class="action"><span class="status (\w+)">', page))
    assert shown == set(get_args(ActionStatus))  # a new status needs a case here
    for section in _sections(page):
        text = html.unescape(re.sub(r"<[^>]+>", " ", section))
        assert "Actions" in text and "Step " in text


def test_every_run_status_renders(tmp_path: Path) -> None:
    run = _run_with_every_kind(tmp_path)
    for status in get_args(RunStatus):
        run.info.status = status
        assert f'class="status {status}">{status}</span>' in render_report(run)


def test_report_command_on_a_run_with_a_rejected_skill(tmp_path: Path) -> None:
    session = _session(tmp_path, [_reply([], skills=(BAD_SKILL,)), _reply([], done=True)])
    folder = _trajectory(session).parent
    result = cradle_cli("report", str(folder), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "the only import allowed" in page and "touch PWNED" in page
