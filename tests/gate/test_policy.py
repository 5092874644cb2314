"""The confirmation gate and the allow/deny lists, from the CLI and in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cradle.gate.policy import ActionPolicy
from cradle.gate.runner import ActionRunner
from cradle.paths import shared_skills_dir
from cradle.screen.mapping import CoordinateMap
from cradle.session import ModelSettings, SafetySettings, Session, SessionSettings
from cradle.skills import SkillRegistry
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.helpers import Plans, cradle_run
from tests.skills.conftest import FakeScreen

RISKY_THEN_TYPE = ["close_window()", "type_text(text='after')"]


def test_without_a_terminal_a_risky_action_is_refused_and_the_next_runs(tmp_path: Path) -> None:
    with FakeOpenAIServer(Plans(RISKY_THEN_TYPE)) as server:
        result = cradle_run(tmp_path, server.base_url)  # stdin is /dev/null: no terminal
    assert result.code == 0, result.stderr
    refused, typed = result.outcomes()
    assert refused["status"] == "rejected"
    assert "needs confirmation" in refused["error"] and "no terminal" in refused["error"]
    assert typed["status"] == "ok"
    assert "close_window" in result.stderr  # shown live, with the reason
    # the model learns why on the next step
    assert "needs confirmation" in json.dumps(server.requests[1]["messages"])


def test_confirm_never_runs_the_risky_action(tmp_path: Path) -> None:
    with FakeOpenAIServer(Plans(["close_window()"])) as server:
        result = cradle_run(tmp_path, server.base_url, "--confirm", "never")
    assert result.code == 0, result.stderr
    assert [o["status"] for o in result.outcomes()] == ["ok"]
    notes = result.steps()[1]["observation"]["notes"]
    assert any("closed" in n for n in notes), notes


def test_deny_skill_hides_and_refuses_it(tmp_path: Path) -> None:
    with FakeOpenAIServer(Plans(["type_text(text='x')", "wait(seconds=0)"])) as server:
        result = cradle_run(tmp_path, server.base_url, "--deny-skill", "type_text")
    assert result.code == 0, result.stderr
    denied, waited = result.outcomes()
    assert denied["status"] == "rejected" and "not allowed" in denied["error"]
    assert waited["status"] == "ok"
    prompt = json.dumps(server.requests[0]["messages"])
    assert "type_text(text: str)" not in prompt and "wait(seconds: float" in prompt


def _session(tmp_path: Path, base_url: str, confirmer, **safety) -> Session:
    settings = SessionSettings(
        env="mock-notepad",
        task="t",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=None,
        model=ModelSettings(model="fake-vlm", base_url=base_url, timeout=5),
        safety=SafetySettings(**safety),
    )
    settings.memory.enabled = False
    return Session(settings, confirmer=confirmer)


@pytest.mark.parametrize("answer", [True, False])
def test_in_process_confirmer_decides(tmp_path: Path, answer: bool) -> None:
    asked: list[str] = []

    def confirmer(prompt: str) -> bool:
        asked.append(prompt)
        return answer

    with FakeOpenAIServer(Plans(RISKY_THEN_TYPE)) as server:
        session = _session(tmp_path, server.base_url, confirmer)
        result = session.run()
    assert result.exit_code == 0
    assert asked == ["close_window()"]  # only the risky action was asked about
    assert session.environment.state()["running"] is (not answer)
    steps = (Path(result.run_dir) / "trajectory.jsonl").read_text().splitlines()
    first = json.loads(steps[0])["actions"][0]
    assert first["status"] == ("ok" if answer else "rejected")
    if not answer:
        assert "declined" in first["error"]


def test_confirm_all_asks_before_every_action(tmp_path: Path) -> None:
    asked: list[str] = []
    with FakeOpenAIServer(Plans(["type_text(text='a')", "wait(seconds=0)"])) as server:
        session = _session(
            tmp_path, server.base_url, lambda p: asked.append(p) or True, confirm="all"
        )
        assert session.run().exit_code == 0
    assert asked == ["type_text(text='a')", "wait(seconds=0.0)"]
    assert session.environment.state()["text"] == "a"


# ------------------------------------------------------------- skills calling gated skills

WRAPPER = '''
from cradle.skills import skill


@skill
def sneaky(screen) -> None:
    """Calls a gated skill from inside."""
    {inner}
'''


def _runner(policy: ActionPolicy) -> tuple[ActionRunner, FakeScreen]:
    registry = SkillRegistry.load([shared_skills_dir()])
    screen = FakeScreen()
    return ActionRunner(
        registry=registry, screen=screen, generated_dir=None, run_id="r", policy=policy
    ), screen


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        (ActionPolicy(confirm="never", deny=frozenset({"type_text"})), "not allowed"),
        (ActionPolicy(confirm="never", allow=frozenset({"sneaky"})), "not allowed"),
        (
            ActionPolicy(confirm="risky", risky_skills=frozenset({"type_text"})),
            "needs confirmation",
        ),
        (
            ActionPolicy(
                confirm="risky", risky_skills=frozenset({"type_text"}), confirmer=lambda p: False
            ),
            "declined",
        ),
    ],
)
def test_a_generated_wrapper_does_not_get_around_the_policy(
    policy: ActionPolicy, reason: str
) -> None:
    runner, screen = _runner(policy)
    verdict = runner.curate([WRAPPER.format(inner="type_text('pwned')")], task="t")
    assert verdict[0]["accepted"], verdict
    (outcome,) = runner.run(
        ["sneaky()"], mapping=CoordinateMap((400, 200), screen.geometry), timeout=5
    )
    assert outcome.status == "failed" and reason in (outcome.error or "")
    assert screen.calls == []


def test_nested_calls_run_when_allowed_and_confirm_all_asks_once() -> None:
    asked: list[str] = []
    policy = ActionPolicy(confirm="all", confirmer=lambda p: asked.append(p) or True)
    runner, screen = _runner(policy)
    runner.curate([WRAPPER.format(inner="type_text('fine')")], task="t")
    (outcome,) = runner.run(
        ["sneaky()"], mapping=CoordinateMap((400, 200), screen.geometry), timeout=5
    )
    assert outcome.status == "ok" and screen.calls == [("type_text", "fine")]
    assert asked == ["sneaky()"]


def test_environment_lists_feed_the_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer(Plans()) as server:
        session = _session(
            tmp_path, server.base_url, None, allow_skills=["click", "wait"], deny_skills=["wait"]
        )
        env = type(session.environment)
        monkeypatch.setattr(env, "risky_skills", frozenset({"click"}))
        monkeypatch.setattr(env, "allowed_skills", frozenset({"click", "wait", "hotkey"}))
        monkeypatch.setattr(env, "denied_skills", frozenset({"hotkey"}))
        policy = session._policy()
        session.close()
    assert policy.allow == frozenset({"click", "wait"})
    assert policy.deny == frozenset({"wait", "hotkey"})
    assert policy.permits("click") and not policy.permits("wait")
    assert not policy.permits("hotkey") and not policy.permits("type_text")
    assert "click" in policy.risky_skills
