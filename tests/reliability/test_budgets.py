"""Budgets: steps, wall time, tokens and cost each stop the run cleanly with exit 3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cradle.budget import Budget, Price, price_for
from cradle.errors import ConfigError
from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse, completion
from tests.reliability.helpers import Plans, assert_clean_stop, cradle_env, cradle_run, fused


def never_done(body: dict) -> dict:
    """A model that keeps working: 100 tokens in, 20 out per reply (the fake's default)."""
    return fused(["move_to(x=5, y=5)"])


def test_max_steps(tmp_path: Path) -> None:
    with FakeOpenAIServer(never_done) as server:
        result = cradle_run(tmp_path, server.base_url, "--max-steps", "2")
    assert_clean_stop(result, 3, "budget_exhausted", "max steps (2)")
    assert len(result.steps()) == 2 and len(server.requests) == 2


def test_max_tokens(tmp_path: Path) -> None:
    with FakeOpenAIServer(never_done) as server:
        result = cradle_run(tmp_path, server.base_url, "--max-tokens", "300")
    info = assert_clean_stop(result, 3, "budget_exhausted", "max tokens (300)")
    assert len(result.steps()) == 3  # 120, 240, 360 tokens: stops after the third step
    assert info["totals"]["input_tokens"] + info["totals"]["output_tokens"] == 360


def test_max_cost_with_prices_is_recorded_shown_and_reported(tmp_path: Path) -> None:
    # $10 / $50 per 1M: one reply (100 in, 20 out) costs $0.002
    with FakeOpenAIServer(never_done) as server:
        result = cradle_run(
            tmp_path,
            server.base_url,
            "--max-cost",
            "0.005",
            "--price-in",
            "10",
            "--price-out",
            "50",
        )
    info = assert_clean_stop(result, 3, "budget_exhausted", "max cost ($0.0050)")
    steps = result.steps()
    assert len(steps) == 3
    assert all(c["cost_usd"] == pytest.approx(0.002) for s in steps for c in s["model_calls"])
    assert info["totals"]["cost_usd"] == pytest.approx(0.006)
    assert "$0.0060" in result.stderr  # live on the terminal

    report = subprocess.run(
        [sys.executable, "-m", "cradle", "report", str(result.run_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=cradle_env(),
    )
    assert report.returncode == 0, report.stderr
    html = (result.run_dir / "report.html").read_text()
    assert "0.0060 (recorded during the run)" in html


def test_max_cost_with_a_price_file(tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"fake-vlm": [10, 50]}))
    with FakeOpenAIServer(never_done) as server:
        result = cradle_run(
            tmp_path, server.base_url, "--max-cost", "0.003", "--prices", str(prices)
        )
    assert_clean_stop(result, 3, "budget_exhausted", "max cost")
    assert len(result.steps()) == 2


def test_max_cost_without_a_price_is_a_usage_error(tmp_path: Path) -> None:
    result = cradle_run(tmp_path, "http://127.0.0.1:9/v1", "--max-cost", "1")
    assert result.code == 2
    assert "--max-cost needs a price" in result.stderr and "Traceback" not in result.stderr


def test_max_time(tmp_path: Path) -> None:
    slow = Plans(never_done=True)

    def handler(body: dict) -> FakeResponse:
        return FakeResponse(200, completion(json.dumps(slow(body))), delay=0.6)

    with FakeOpenAIServer(handler) as server:
        result = cradle_run(tmp_path, server.base_url, "--max-time", "1")
    assert_clean_stop(result, 3, "budget_exhausted", "max wall time (1 s)")
    assert 1 <= len(result.steps()) <= 3
    assert len(server.requests) == len(result.steps())


def test_budget_is_checked_after_failed_steps_too(tmp_path: Path) -> None:
    """Unusable replies cost tokens: a token budget stops them before max_failed_steps."""
    with FakeOpenAIServer(lambda body: "not json") as server:
        result = cradle_run(tmp_path, server.base_url, "--max-tokens", "200")
    assert_clean_stop(result, 3, "budget_exhausted", "max tokens (200)")
    assert len(result.steps()) == 1 and len(server.requests) == 2


def test_prices() -> None:
    assert price_for("gpt-4o-2024-08-06") == Price(2.5, 10.0)  # longest prefix
    assert price_for("gpt-4o-mini") == Price(0.15, 0.6)
    assert price_for("unknown-model") is None
    assert price_for("unknown-model", price_in=1) == Price(1, 0)
    with pytest.raises(ConfigError, match="needs a price"):
        Budget(max_cost=1.0)
    budget = Budget(max_tokens=10, price=Price(1, 1))
    budget.add(5, 4)
    assert budget.exceeded() == "" and budget.cost == pytest.approx(9e-6)
    budget.add(1, 0)
    assert "max tokens" in budget.exceeded()
