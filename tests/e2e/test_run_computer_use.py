"""`cradle run` with a computer-use model as the planner: real processes, the real anthropic
and openai SDKs, local fakes of the Messages and Responses APIs.

Each run types text and opens Help > About on mock-notepad (1024x768) through a 640x480
screenshot, alone (--mode computer-use) and in the full loop (modular, the other modules
asked of a fake chat completions server); the final screenshot must equal the expected
screen, so a click the coordinate mapping misplaced fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.computer_use.notepad_scripts import (
    TYPED,
    ClaudeScript,
    OperatorScript,
    expected_final,
)
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.responses_server import FakeResponsesServer

TASK = f"Type '{TYPED}', then open Help > About"
SUPPORT = {
    "InformationGathering": {
        "screen_description": "A notepad window.",
        "visible_text": [],
        "elements": [],
    },
    "SelfReflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
    "TaskInference": {
        "subtask": "Type the text and open About",
        "reasoning": "r",
    },
    "SkillCuration": {"relevant_skills": [], "new_skills": []},
}


def _cradle(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY")
    }
    return subprocess.run(
        [sys.executable, "-m", "cradle", *args],
        cwd=cwd,
        env={**full, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )


def _run_dir(runs: Path) -> Path:
    (folder,) = [p for p in runs.iterdir() if p.is_dir()]
    return folder


def _steps(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "trajectory.jsonl").read_text().splitlines()]


def _final_is_expected(run_dir: Path, screen: tuple[int, int] = (1024, 768)) -> None:
    last = _steps(run_dir)[-1]
    final = Image.open(run_dir / last["observation"]["screenshot"]).convert("RGB")
    assert ImageChops.difference(final, expected_final(screen)).getbbox() is None


def _common(runs: Path) -> list[str]:
    return [
        "run",
        "--env",
        "mock-notepad",
        "--task",
        TASK,
        "--max-image-side",
        "640",
        "--max-steps",
        "6",
        "--runs-dir",
        str(runs),
        "--settle",
        "0",
    ]


@pytest.mark.parametrize("mode", ["computer-use", "modular"])
def test_claude_computer_tool_types_and_opens_the_menu(tmp_path: Path, mode: str) -> None:
    script = ClaudeScript()
    runs = tmp_path / "runs"
    with (
        FakeAnthropicServer(script) as claude,
        FakeOpenAIServer(
            lambda body: SUPPORT[body["response_format"]["json_schema"]["name"]]
        ) as chat,
    ):
        if mode == "computer-use":
            args = [
                "--mode",
                "computer-use",
                "--provider",
                "anthropic",
                "--base-url",
                claude.base_url,
                "--model",
                "fake-claude",
            ]
        else:
            args = [
                "--mode",
                "modular",
                "--planner",
                "computer-use",
                "--base-url",
                chat.base_url,
                "--planner-provider",
                "anthropic",
                "--planner-base-url",
                claude.base_url,
                "--planner-model",
                "fake-claude",
            ]
        result = _cradle(
            *_common(runs),
            *args,
            cwd=tmp_path,
            env={"ANTHROPIC_API_KEY": "sk-ant-e2e-secret-value"},
        )
    assert result.returncode == 0, result.stderr
    assert script.problems == []
    assert all(h.get("anthropic-beta") == "computer-use-2025-01-24" for h in claude.headers)
    run_dir = _run_dir(runs)
    _final_is_expected(run_dir)
    steps = _steps(run_dir)
    assert len(steps) == 4 and steps[-1]["done"] and all(s["mode"] == mode for s in steps)
    assert steps[0]["action_planning"]["actions"] == [f"type_text(text={TYPED!r})"]
    planner_calls = [c for s in steps for c in s["model_calls"] if c["module"] == "computer_use"]
    assert len(planner_calls) == 4 and all(
        c["response_mode"] == "computer_tool" for c in planner_calls
    )
    assert json.loads(planner_calls[0]["reply"])["content"][1]["type"] == "tool_use"
    if mode == "modular":
        assert len(chat.requests) == 4 * 3 + 3  # four modules a step, no reflection at 1
        assert script.subtasks and "Type the text and open About" in script.subtasks[0]
    else:
        assert chat.requests == [] and steps[0]["task_inference"] is None
    info = json.loads((run_dir / "run.json").read_text())
    assert info["totals"]["input_tokens"] == 4 * 1000 + 100 * len(chat.requests)
    everything = "".join(p.read_text(errors="ignore") for p in run_dir.rglob("*.json*"))
    assert "sk-ant-e2e-secret-value" not in everything + result.stdout + result.stderr
    assert "base64" not in everything  # screenshots are never stored inline


@pytest.mark.parametrize("mode", ["computer-use", "modular"])
def test_openai_computer_use_types_and_opens_the_menu(tmp_path: Path, mode: str) -> None:
    script = OperatorScript()
    runs = tmp_path / "runs"
    with FakeResponsesServer(script) as server:
        args = [
            "--provider",
            "openai-responses",
            "--base-url",
            server.base_url,
            "--model",
            "fake-cua",
        ]
        if mode == "modular":
            server_all = FakeOpenAIServer(
                lambda body: SUPPORT[body["response_format"]["json_schema"]["name"]]
            )
            with server_all as chat:
                result = _cradle(
                    *_common(runs),
                    "--mode",
                    "modular",
                    "--planner",
                    "computer-use",
                    "--base-url",
                    chat.base_url,
                    "--planner-provider",
                    "openai-responses",
                    "--planner-base-url",
                    server.base_url,
                    "--planner-model",
                    "fake-cua",
                    cwd=tmp_path,
                )
        else:
            result = _cradle(*_common(runs), "--mode", "computer-use", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert script.problems == []
    run_dir = _run_dir(runs)
    _final_is_expected(run_dir)
    steps = _steps(run_dir)
    assert len(steps) == 4 and steps[-1]["done"]
    assert steps[1]["action_planning"]["actions"][0].startswith("click(x=")


def test_a_declined_safety_check_runs_nothing(tmp_path: Path) -> None:
    script = OperatorScript(safety=True)
    runs = tmp_path / "runs"
    with FakeResponsesServer(script) as server:
        result = _cradle(
            *_common(runs),
            "--mode",
            "computer-use",
            "--provider",
            "openai-responses",
            "--base-url",
            server.base_url,
            cwd=tmp_path,
        )
    assert result.returncode == 4, result.stderr
    assert "safety check (malicious_instructions" in result.stderr
    assert "Traceback" not in result.stderr
    steps = _steps(_run_dir(runs))
    assert len(steps) == 1 and steps[0]["actions"] == []
    assert "not confirmed" in steps[0]["model_calls"][0]["error"]
    assert len(server.requests) == 1


def test_an_accepted_safety_check_is_acknowledged(tmp_path: Path) -> None:
    script = OperatorScript(safety=True)
    runs = tmp_path / "runs"
    with FakeResponsesServer(script) as server:
        result = _cradle(
            *_common(runs),
            "--mode",
            "computer-use",
            "--provider",
            "openai-responses",
            "--base-url",
            server.base_url,
            "--confirm",
            "never",
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stderr
    assert script.acknowledged[0] == [
        {
            "id": "cu_sc_1",
            "code": "malicious_instructions",
            "message": "The screen may contain instructions.",
        }
    ]
    assert script.acknowledged[1:] == [None, None]
    _final_is_expected(_run_dir(runs))


@pytest.mark.parametrize("kind", ["anthropic", "openai-responses"])
def test_replay_with_recorded_replies_reproduces_the_run(tmp_path: Path, kind: str) -> None:
    runs = tmp_path / "runs"
    script = ClaudeScript() if kind == "anthropic" else OperatorScript()
    fake = FakeAnthropicServer if kind == "anthropic" else FakeResponsesServer
    with fake(script) as server:
        result = _cradle(
            *_common(runs),
            "--mode",
            "computer-use",
            "--provider",
            kind,
            "--base-url",
            server.base_url,
            cwd=tmp_path,
            env={"ANTHROPIC_API_KEY": "sk-ant-x"},
        )
    assert result.returncode == 0, result.stderr
    run_dir = _run_dir(runs)
    actions = _cradle("replay", str(run_dir), cwd=tmp_path)  # the recorded actions alone
    assert actions.returncode == 0, actions.stdout + actions.stderr
    replayed = tmp_path / "replayed"
    result = _cradle(
        "replay", str(run_dir), "--model-replies", "--runs-dir", str(replayed), cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    again = _run_dir(replayed)
    _final_is_expected(again)
    assert [s["action_planning"]["actions"] for s in _steps(again)] == [
        s["action_planning"]["actions"] for s in _steps(run_dir)
    ]


def test_a_bad_reply_fails_clearly_and_is_recorded(tmp_path: Path) -> None:
    from tests.fakes import anthropic_server as claude

    def unknown_action(body: dict):
        return claude.message(
            [claude.tool_use("computer", {"action": "teleport"})], stop_reason="tool_use"
        )

    runs = tmp_path / "runs"
    with FakeAnthropicServer(unknown_action) as server:
        result = _cradle(
            *_common(runs),
            "--mode",
            "computer-use",
            "--provider",
            "anthropic",
            "--base-url",
            server.base_url,
            cwd=tmp_path,
            env={"ANTHROPIC_API_KEY": "sk-ant-x"},
        )
    assert result.returncode == 4, result.stderr
    assert "unknown computer action 'teleport'" in result.stderr
    assert "Traceback" not in result.stderr
    steps = _steps(_run_dir(runs))
    assert len(steps) == 3 and all("teleport" in s["model_calls"][0]["error"] for s in steps)
    # Each later request answered the unusable call with an error result (ids matched).
    second = server.requests[1]["messages"][-1]["content"][0]
    assert second["type"] == "tool_result" and second["is_error"] is True


def test_dry_run_plans_the_model_actions_and_sends_nothing(tmp_path: Path) -> None:
    script = ClaudeScript()
    runs = tmp_path / "runs"
    with FakeAnthropicServer(script) as server:
        result = _cradle(
            *_common(runs),
            "--mode",
            "computer-use",
            "--provider",
            "anthropic",
            "--base-url",
            server.base_url,
            "--dry-run",
            cwd=tmp_path,
            env={"ANTHROPIC_API_KEY": "sk-ant-x"},
        )
    assert result.returncode == 0, result.stderr
    steps = _steps(_run_dir(runs))
    assert [o["status"] for s in steps for o in s["actions"]] == ["planned"] * 3
    first, last = (
        Image.open(_run_dir(runs) / s["observation"]["screenshot"]) for s in (steps[0], steps[-1])
    )
    assert ImageChops.difference(first, last).getbbox() is None  # the screen was not touched
    # The model was told its actions were only planned.
    result_text = str(server.requests[1]["messages"][-1]["content"][0])
    assert "dry run" in result_text


def test_the_planner_usage_counts_against_the_token_budget(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with FakeAnthropicServer(ClaudeScript()) as server:
        result = _cradle(
            *_common(runs),
            "--mode",
            "computer-use",
            "--provider",
            "anthropic",
            "--base-url",
            server.base_url,
            "--max-tokens",
            "2000",
            cwd=tmp_path,
            env={"ANTHROPIC_API_KEY": "sk-ant-x"},
        )
    assert result.returncode == 3, result.stderr  # 1050 tokens a step: over after step 2
    info = json.loads((_run_dir(runs) / "run.json").read_text())
    assert info["status"] == "budget_exhausted" and info["totals"]["steps"] == 2
    assert info["totals"]["input_tokens"] == 2000 and info["totals"]["output_tokens"] == 100


def test_eval_runs_a_task_with_the_planner_and_its_checker_passes(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(
        json.dumps(
            [
                {
                    "id": "about",
                    "instruction": TASK,
                    "environment": "mock-notepad",
                    "max_steps": 6,
                    "check": [{"state": {"text": TYPED, "dialog": "About Notepad"}}],
                }
            ]
        )
    )
    with FakeAnthropicServer(ClaudeScript()) as server:
        result = _cradle(
            "eval",
            str(tasks),
            "--out",
            str(tmp_path / "out"),
            "--mode",
            "computer-use",
            "--provider",
            "anthropic",
            "--base-url",
            server.base_url,
            "--max-image-side",
            "640",
            "--settle",
            "0",
            cwd=tmp_path,
            env={"ANTHROPIC_API_KEY": "sk-ant-x"},
        )
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    verdict = json.loads(line)
    assert verdict["success"] is True and verdict["model_calls"] == 4


@pytest.mark.parametrize("kind", ["anthropic", "openai-responses"])
def test_a_1280x720_screenshot_of_a_1920x1080_screen(tmp_path: Path, kind: str) -> None:
    """The model sees 1280x720, declared as its display; its clicks land on the full screen."""
    screen, image = (1920, 1080), (1280, 720)
    script = ClaudeScript(image, screen) if kind == "anthropic" else OperatorScript(image, screen)
    fake = FakeAnthropicServer if kind == "anthropic" else FakeResponsesServer
    runs = tmp_path / "runs"
    with fake(script) as server:
        result = _cradle(
            "run",
            "--env",
            "mock-notepad",
            "--env-option",
            "size=1920x1080",
            "--task",
            TASK,
            "--max-image-side",
            "1280",
            "--runs-dir",
            str(runs),
            "--settle",
            "0",
            "--mode",
            "computer-use",
            "--provider",
            kind,
            "--base-url",
            server.base_url,
            cwd=tmp_path,
            env={"ANTHROPIC_API_KEY": "sk-ant-x"},
        )
    assert result.returncode == 0, result.stderr
    assert script.problems == []
    run_dir = _run_dir(runs)
    _final_is_expected(run_dir, screen)
    clicks = [o["clicks"] for s in _steps(run_dir) for o in s["actions"] if o["clicks"]]
    assert len(clicks) == 2 and all(x < 1280 and y < 720 for ((x, y),) in clicks)
