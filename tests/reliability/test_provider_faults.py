"""Provider faults and unusable replies: `cradle run` stops cleanly with exit 4, in bounded time.

A real process, the real openai client, a local server that misbehaves in one way per test.
Small ``--timeout``/``--max-retries`` keep them quick; one test keeps the default retries to
show the client waits for Retry-After and tries again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse
from tests.reliability.helpers import API_KEY, Plans, assert_clean_stop, cradle_run, fused, leaks

FAST = ("--timeout", "1", "--max-retries", "1")

RETRIED = {"server_error", "rate_limited", "hangs", "drops"}
"""Faults the openai client retries; a garbage body or a 418 is final at once."""
FAULTS = {
    "garbage": (FakeResponse(200, "<<this is not json>>"), "not a chat completion"),
    "server_error": (FakeResponse(500, {"error": {"message": "boom"}}), "failed (500)"),
    "rate_limited": (
        FakeResponse(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "0"}),
        "rate limited",
    ),
    "hangs": (FakeResponse(200, fused([]), delay=4), "did not answer in time"),
    "drops": (FakeResponse(drop=True), "connection to the model server"),
    "teapot": (FakeResponse(418, {"error": {"message": "teapot"}}), "answered 418"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_stops_with_model_exit(tmp_path: Path, fault: str) -> None:
    response, reason = FAULTS[fault]
    with FakeOpenAIServer(lambda body: response) as server:
        result = cradle_run(tmp_path, server.base_url, *FAST)
    assert result.elapsed < 30, result.elapsed
    info = assert_clean_stop(result, 4, "model_failure", reason)
    # the first try and, when the client retries this fault, one retry (--max-retries 1)
    assert len(server.requests) == (2 if fault in RETRIED else 1)
    steps = result.steps()
    assert len(steps) == 1 and reason.lower() in steps[0]["errors"][0].lower()
    assert (result.run_dir / "screenshots" / "step-0001.png").is_file()
    assert info["totals"]["steps"] == 1


def test_default_retries_wait_for_retry_after(tmp_path: Path) -> None:
    """Default --max-retries (2): three requests, each retry after the server's Retry-After."""
    limited = FakeResponse(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "1"})
    with FakeOpenAIServer(lambda body: limited) as server:
        result = cradle_run(tmp_path, server.base_url)
    assert_clean_stop(result, 4, "model_failure", "rate limited")
    assert len(server.requests) == 3
    assert 2.0 <= result.elapsed < 60, result.elapsed


def test_rate_limit_then_success_recovers(tmp_path: Path) -> None:
    replies = [
        FakeResponse(429, {"error": {"message": "wait"}}, headers={"Retry-After": "0"}),
        json.dumps(fused(["type_text(text='hi')"])),
        json.dumps(fused([], done=True)),
    ]
    with FakeOpenAIServer(replies=replies) as server:
        result = cradle_run(tmp_path, server.base_url)
    assert result.code == 0, result.stderr
    assert [a["status"] for a in result.outcomes()] == ["ok"]
    assert len(server.requests) == 3


def test_wrong_schema_gets_one_repair_retry_then_stops(tmp_path: Path) -> None:
    """Valid JSON of the wrong shape: the error goes back once per step; 3 failed steps stop."""
    with FakeOpenAIServer(lambda body: {"answer": 42}) as server:
        result = cradle_run(tmp_path, server.base_url, *FAST)
    assert_clean_stop(result, 4, "model_failure", "3 steps in a row")
    assert len(server.requests) == 6  # 3 steps x (reply + one repair)
    repair = server.requests[1]["messages"][-1]
    assert repair["role"] == "user" and "not usable" in repair["content"]
    assert "FusedStep" in repair["content"]
    for step in result.steps():
        assert len(step["model_calls"]) == 2 and all(c["error"] for c in step["model_calls"])
    assert "2 model calls" in result.stderr  # failed calls are shown live too


@pytest.mark.parametrize(
    "action",
    [
        "no_such_skill(x=1)",  # unknown skill
        "click(x='left', y=3)",  # bad argument type
        "import os",  # not a call
    ],
)
def test_invalid_actions_count_as_failed_steps(tmp_path: Path, action: str) -> None:
    with FakeOpenAIServer(lambda body: fused([action])) as server:
        result = cradle_run(tmp_path, server.base_url, "--max-steps", "10")
    assert_clean_stop(result, 4, "model_failure", "3 steps in a row")
    steps = result.steps()
    assert len(steps) == 3 and len(server.requests) == 3
    for step in steps:
        assert step["actions"][0]["status"] == "rejected"
        assert "every planned action was rejected" in step["errors"][-1]
    # the rejection reason went back to the model on the next step
    assert "rejected" in json.dumps(server.requests[1]["messages"])


def test_a_usable_step_resets_the_failed_count(tmp_path: Path) -> None:
    plans = Plans(
        ["nope()"], ["nope()"], ["move_to(x=5, y=5)"], ["nope()"], ["nope()"], never_done=True
    )
    with FakeOpenAIServer(plans) as server:
        result = cradle_run(tmp_path, server.base_url, "--max-steps", "6")
    assert_clean_stop(result, 3, "budget_exhausted", "max steps")
    assert len(result.steps()) == 6 and len(server.requests) == 6


def test_error_bodies_echoing_the_key_do_not_leak_it(tmp_path: Path) -> None:
    """A server that puts the Authorization header in its error: the key is redacted."""

    def echo(body: dict) -> FakeResponse:
        key = server.headers[-1]["authorization"]
        return FakeResponse(503, {"error": {"message": f"bad key {key}"}})

    with FakeOpenAIServer(echo) as server:
        result = cradle_run(tmp_path, server.base_url, *FAST)
    assert_clean_stop(result, 4, "model_failure", "failed (503)")
    assert API_KEY in server.headers[0]["authorization"]
    assert not leaks(result.runs, API_KEY)
    assert API_KEY not in result.stdout + result.stderr
    assert "[redacted:api_key]" in result.info()["reason"]
