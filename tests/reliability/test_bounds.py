"""Bounds: whatever the model sends, a step line, the terminal and the next prompts stay small.

A reply with a 10 MB action and a 10 MB reasoning used to be printed whole, stored three times
in its step and re-sent in the next five prompts (a 140 MB trajectory); a plan of 500 actions
all ran. Now each field is cut with a marker that keeps the original length, and only the
first ``--max-actions`` of a plan run.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from cradle.agent import AgentSettings
from cradle.bounds import TEXT_LIMIT, bound_step, shorten, shorten_items
from cradle.cli.console import ConsoleProgress
from cradle.llm.scripted import ScriptedModel
from cradle.session import MemorySettings, Session, SessionSettings
from cradle.types import ActionOutcome, ModelCall, StepRecord
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.helpers import FILLER, assert_clean_stop, cradle_run, fused

BIG = 10 * 1024 * 1024
HUGE_ACTION = "type_text(text='" + "A" * BIG + "')"
SECRET = "QZ9xk-do-not-leak-7731"
LINE_BYTES = 256 * 1024


def huge_reply(reasoning: str = "R" * BIG) -> dict:
    reply = fused([HUGE_ACTION])
    reply["action_planning"]["reasoning"] = reasoning
    return reply


def _prompt_text(body: dict) -> str:
    """The text a request sent (the screenshot's data URL left out)."""
    parts = []
    for message in body["messages"]:
        content = message["content"]
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(part.get("text", "") for part in content)
    return "\n".join(parts)


def test_shorten_marks_the_original_length() -> None:
    text = "x" * 10_000
    short = shorten(text, 100)
    assert len(short) <= 100 and short.endswith("…[truncated, 10000 chars]")
    assert shorten(short, 60).endswith("…[truncated, 10000 chars]")  # the first length stays
    assert shorten("small", 100) == "small"
    tailed = shorten("a" * 5000 + "[repair]\nnote", 1000, keep_tail=20)
    assert len(tailed) <= 1000 and tailed.endswith("[repair]\nnote")
    items = shorten_items([str(n) for n in range(500)], 10)
    assert len(items) == 10 and items[-1] == "…[truncated, 500 items]"
    assert shorten_items(items, 5)[-1] == "…[truncated, 500 items]"


def test_a_huge_reply_stays_small_on_disk_terminal_and_next_prompts(tmp_path: Path) -> None:
    replies = iter([huge_reply(), *[fused([f"type_text(text='{n}')"]) for n in range(5)]])

    def handler(body: dict) -> dict:
        return next(replies, fused([], done=True))

    with FakeOpenAIServer(handler) as server:
        result = cradle_run(tmp_path, server.base_url, timeout=300)
    assert_clean_stop(result, 0, "done", "declared the task done")

    lines = (result.run_dir / "trajectory.jsonl").read_bytes().splitlines()
    assert len(lines) == 7
    assert max(len(line) for line in lines) < LINE_BYTES, [len(line) for line in lines]
    first = json.loads(lines[0])
    plan, outcome = first["action_planning"], first["actions"][0]
    assert plan["reasoning"].endswith(f"…[truncated, {BIG} chars]")
    assert len(plan["reasoning"]) <= TEXT_LIMIT
    assert outcome["status"] == "rejected"
    assert f"the action is {len(HUGE_ACTION)} characters long" in outcome["error"]
    assert outcome["source"].endswith(f"…[truncated, {len(HUGE_ACTION)} chars]")
    assert first["model_calls"][0]["reply"].endswith("chars]")

    assert len(result.stderr) < 8_000, len(result.stderr)
    assert "…[truncated," in result.stderr and "A" * 400 not in result.stderr

    later = [_prompt_text(body) for body in server.requests[1:]]
    assert len(later) == 6
    assert max(len(text) for text in later) < 24_000, [len(text) for text in later]
    assert f"the action is {len(HUGE_ACTION)} characters long" in later[0]  # the model is told


def test_secrets_are_redacted_before_text_is_cut(tmp_path: Path) -> None:
    # Put the secret across the point where the reasoning is cut: cutting first would keep
    # its first characters, which redaction would no longer recognise.
    marker = f"…[truncated, {BIG} chars]"
    start = TEXT_LIMIT - len(marker) - 6
    reasoning = "R" * start + SECRET + "R" * (BIG - start - len(SECRET))
    replies = iter([huge_reply(reasoning), fused(["type_text(text='ok')"])])

    def handler(body: dict) -> dict:
        return next(replies, fused([], done=True))

    with FakeOpenAIServer(handler) as server:
        result = cradle_run(
            tmp_path, server.base_url, env={"CRADLE_SECRET_PIN": SECRET}, timeout=300
        )
    assert result.code == 0, result.stderr[-2000:]
    stored = (result.run_dir / "trajectory.jsonl").read_text()
    assert "[redac" in stored
    sent = "".join(_prompt_text(body) for body in server.requests[1:])
    for where in (stored, result.stderr, sent):
        assert SECRET[:6] not in where


def _session(tmp_path: Path, model: ScriptedModel, **agent: object) -> Session:
    settings = SessionSettings(
        env="mock-notepad",
        task="type",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=tmp_path / "generated",
        agent=AgentSettings(**{"mode": "fused", "max_steps": 4, **agent}),
        memory=MemorySettings(enabled=False),
    )
    terminal = ConsoleProgress(Console(file=io.StringIO(), width=120))
    return Session(settings, model=model, progress=terminal)


def _steps(session: Session) -> list[dict]:
    assert session.recorder is not None
    path = session.recorder.folder / "trajectory.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_only_max_actions_of_a_plan_run_and_the_rest_are_refused(tmp_path: Path) -> None:
    model = ScriptedModel([fused(["type_text(text='x')"] * 500), fused([], done=True)])
    session = _session(tmp_path, model)
    assert session.run().exit_code == 0
    assert session.environment.state()["text"] == "x" * 20  # the default cap

    outcomes = _steps(session)[0]["actions"]
    assert [o["status"] for o in outcomes] == ["ok"] * 20 + ["rejected"]
    refused = outcomes[-1]["error"]
    assert "500 actions" in refused and "at most 20" in refused
    assert "the 479 after it" in refused and "--max-actions" in refused
    assert refused in model.requests[1].user  # the model reads why in the next prompt


def test_max_actions_changes_the_cap(tmp_path: Path) -> None:
    model = ScriptedModel([fused(["type_text(text='y')"] * 4), fused([], done=True)])
    session = _session(tmp_path, model, max_actions=3)
    assert session.run().exit_code == 0
    assert session.environment.state()["text"] == "yyy"
    outcomes = _steps(session)[0]["actions"]
    assert [o["status"] for o in outcomes] == ["ok", "ok", "ok", "rejected"]
    assert "this action was refused" in outcomes[-1]["error"]


def test_max_actions_flag(tmp_path: Path) -> None:
    replies = iter([fused(["type_text(text='z')"] * 5)])
    with FakeOpenAIServer(lambda body: next(replies, fused([], done=True))) as server:
        result = cradle_run(tmp_path, server.base_url, "--max-actions", "2")
    assert_clean_stop(result, 0, "done", "declared the task done")
    assert [o["status"] for o in result.outcomes()] == ["ok", "ok", "rejected"]
    assert result.info()["settings"]["agent"]["max_actions"] == 2

    (tmp_path / "bad").mkdir()
    refused = cradle_run(tmp_path / "bad", "http://127.0.0.1:9/v1", "--max-actions", "0")
    assert refused.code == 2 and "--max-actions" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_modular_modules_read_bounded_text_within_a_step(tmp_path: Path) -> None:
    seen = {
        **FILLER["information_gathering"],
        "screen_description": "S" * BIG,
        "visible_text": ["V" * 1000] * 5000,
    }
    model = ScriptedModel(
        {
            "information_gathering": [seen, FILLER["information_gathering"]],
            "task_inference": [FILLER["task_inference"]] * 2,
            "skill_curation": [FILLER["skill_curation"]] * 2,
            "action_planning": [
                {"reasoning": "r", "actions": ["type_text(text='m')"], "done": False},
                {"reasoning": "r", "actions": [], "done": True},
            ],
            "self_reflection": [FILLER["self_reflection"]],
        }
    )
    session = _session(tmp_path, model, mode="modular")
    assert session.run().exit_code == 0
    later = [r for r in model.requests if r.module != "information_gathering"]
    # the most: task inference quoting the 100 texts kept, 300 characters each
    assert later and max(len(r.user) for r in later) < 40_000, [len(r.user) for r in later]
    first = _steps(session)[0]["information_gathering"]
    assert first["screen_description"].endswith(f"…[truncated, {BIG} chars]")
    assert first["visible_text"][-1] == "…[truncated, 5000 items]"


def test_a_step_line_stays_small_when_every_field_is_huge() -> None:
    text = "W" * 20_000
    outputs = {
        "information_gathering": {
            "screen_description": text,
            "visible_text": [text] * 150,
            "elements": [{"label": text, "role": text, "x": 1, "y": 2}] * 150,
        },
        "self_reflection": {
            "last_actions_succeeded": False,
            "analysis": text,
            "failure_reason": text,
        },
        "task_inference": {"subtask": text, "reasoning": text},
        "skill_curation": {"relevant_skills": [text] * 150, "new_skills": [text] * 150},
        "action_planning": {"reasoning": text, "actions": [text] * 150, "done": False},
    }
    record = StepRecord.model_validate(
        {
            "run_id": "r",
            "step": 1,
            "mode": "modular",
            "started_at": "2026-01-01T00:00:00Z",
            "ended_at": "2026-01-01T00:00:01Z",
            "observation": {
                "step": 1,
                "screenshot": "s.png",
                "screen_size": [8, 8],
                "image_size": [8, 8],
            },
            **outputs,
            "actions": [ActionOutcome(source=text, status="rejected", error=text).model_dump()]
            * 60,
            "new_skills": [{"accepted": False, "reason": text, "source": text}] * 150,
            "model_calls": [
                ModelCall(
                    module="m",
                    model="m",
                    response_mode="json_schema",
                    prompt=text * 5,
                    reply=text * 5,
                    error=text,
                ).model_dump()
            ]
            * 10,
            "errors": [text] * 150,
        }
    )
    assert len(record.model_dump_json()) > 20_000_000
    bounded = bound_step(record)
    assert len(bounded.model_dump_json().encode()) < LINE_BYTES
    assert any(e.startswith("trimmed: information_gathering.elements") for e in bounded.errors)
    assert bounded.action_planning is not None
    assert bounded.action_planning.actions[-1] == "…[truncated, 150 items]"
