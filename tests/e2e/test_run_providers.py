"""`cradle run --provider anthropic|openai-responses` end to end: a real process, the real SDK,
a local fake of each API; the task is judged on the app's own final state, the run replays
from its recorded replies, budgets count each API's usage, bad replies stop cleanly."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import anthropic_server as ant
from tests.fakes import responses_server as resp
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.helpers import FILLER, Finished, assert_clean_stop, cradle_env, leaks

TYPED = "Hello from the provider"
KEY = "sk-provider-e2e-ZQX7-do-not-leak"
HELP_MENU = (170, 64)
"""The centre of mock-notepad's Help menu title (1024x768 screen, sent unscaled)."""
ABOUT_ITEM = (239, 99)
"""The centre of Help > About once the menu is open."""
TASK_FILE = f"""
- id: type-and-about
  instruction: "Type '{TYPED}', then open About from the Help menu"
  environment: mock-notepad
  check:
    - state: {{text: "{TYPED}", dialog: "About Notepad"}}
  max_steps: 5
"""
PLANS = [
    [f"type_text(text={TYPED!r})", f"click(x={HELP_MENU[0]}, y={HELP_MENU[1]})"],
    [f"click(x={ABOUT_ITEM[0]}, y={ABOUT_ITEM[1]})"],
]
PROVIDERS = {
    "anthropic": (ant.FakeAnthropicServer, "ANTHROPIC_API_KEY"),
    "openai-responses": (resp.FakeResponsesServer, "OPENAI_API_KEY"),
}


def requested(provider: str, body: dict) -> str:
    """The output model a request asks for: the forced tool, or the json_schema's name."""
    if provider == "anthropic":
        return ant.forced_tool(body) or ""
    return body["text"]["format"]["name"]


class Script:
    """Replies by the output model asked for; the plans in order, then done."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.plans = 0

    def plan(self) -> dict[str, Any]:
        self.plans += 1
        actions = PLANS[self.plans - 1] if self.plans <= len(PLANS) else []
        return {"reasoning": "scripted", "actions": actions, "done": self.plans > len(PLANS)}

    def __call__(self, body: dict) -> Any:
        name = requested(self.provider, body)
        if name == "FusedStep":
            return {**FILLER, "action_planning": self.plan()}
        if name == "ActionPlan":
            return self.plan()
        return FILLER[re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()]


def _cradle(
    tmp_path: Path,
    provider: str,
    base_url: str,
    *args: str,
    key: str | None = KEY,
    judged: bool = True,
) -> Finished:
    """``cradle run`` of the task file (judged on the app's state), or of its instruction
    alone (``judged=False``: the model's done or a budget ends it)."""
    (tmp_path / "tasks.yaml").write_text(TASK_FILE)
    task = (
        ["--task-file", str(tmp_path / "tasks.yaml")]
        if judged
        else ["--env", "mock-notepad", "--task", f"Type '{TYPED}'"]
    )
    env = cradle_env()
    env.pop("OPENAI_API_KEY", None)
    env.pop("ANTHROPIC_BASE_URL", None)
    if key:
        env[PROVIDERS[provider][1]] = key
    command = [
        sys.executable,
        "-m",
        "cradle",
        "run",
        "--provider",
        provider,
        *task,
        "--base-url",
        base_url,
        "--model",
        "fake-cua",
        "--no-memory",
        "--settle",
        "0",
        "--max-retries",
        "0",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--generated-skills-dir",
        str(tmp_path / "generated"),
        *args,
    ]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    return Finished(done.returncode, done.stdout, done.stderr, 0.0, tmp_path / "runs")


def _images(provider: str, server: Any, index: int) -> list[str]:
    if provider == "anthropic":
        return [source["data"] for source in server.images(index)]
    return server.image_urls(index)


@pytest.mark.parametrize("mode", ["modular", "fused"])
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_the_task_is_done_and_the_run_replays(tmp_path: Path, provider: str, mode: str) -> None:
    server_type, _ = PROVIDERS[provider]
    with server_type(Script(provider)) as server:
        run = _cradle(tmp_path, provider, server.base_url, "--mode", mode)
    assert run.code == 0, run.stderr[-3000:]
    verdict = json.loads((run.run_dir / "verdict.json").read_text())
    assert verdict["success"] is True, verdict  # typed, and About opened by its menu
    steps = run.steps()
    assert len(steps) == 3 and all(a["status"] == "ok" for s in steps for a in s["actions"])
    requests = server.requests
    assert all(body["model"] == "fake-cua" for body in requests)
    assert _images(provider, server, 0), "the screenshot was not sent"
    names = {requested(provider, body) for body in requests}
    assert names == (
        {"FusedStep"}
        if mode == "fused"
        else {
            "InformationGathering",
            "SelfReflection",
            "TaskInference",
            "SkillCuration",
            "ActionPlan",
        }
    )
    calls = [c for s in steps for c in s["model_calls"]]
    assert len(calls) == len(requests)
    assert {c["response_mode"] for c in calls} == (
        {"tool_use"} if provider == "anthropic" else {"json_schema"}
    )
    totals = run.info()["totals"]
    assert (totals["input_tokens"], totals["output_tokens"]) == (
        100 * len(requests),
        20 * len(requests),
    )
    assert not leaks(run.run_dir, KEY) and KEY not in run.stdout + run.stderr

    replay = subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "replay",
            str(run.run_dir),
            "--model-replies",
            "--runs-dir",
            str(tmp_path / "replayed"),
        ],
        cwd=tmp_path,
        env=cradle_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert replay.returncode == 0, replay.stderr[-3000:]
    again = Finished(0, "", "", 0.0, tmp_path / "replayed").steps()
    assert [[a["call"] for a in s["actions"]] for s in again] == [
        [a["call"] for a in s["actions"]] for s in steps
    ]
    assert all(a["status"] == "ok" for s in again for a in s["actions"])


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_the_token_budget_counts_the_providers_usage(tmp_path: Path, provider: str) -> None:
    script = Script(provider)

    def handler(body: dict) -> Any:
        answer = json.dumps(script(body))
        if provider == "anthropic":  # 60 new + 40 cached input tokens, 20 output
            return ant.message(
                [ant.tool_use(ant.forced_tool(body), json.loads(answer))],
                stop_reason="tool_use",
                input_tokens=60,
                cache_read_input_tokens=40,
            )
        return resp.response([resp.text_message(answer)])

    server_type, _ = PROVIDERS[provider]
    with server_type(handler) as server:
        run = _cradle(tmp_path, provider, server.base_url, "--max-tokens", "150", judged=False)
    info = assert_clean_stop(run, 3, "budget_exhausted", "token")
    assert len(run.steps()) == 2 and len(server.requests) == 2
    assert info["totals"]["input_tokens"] == 200 and info["totals"]["output_tokens"] == 40


def _anthropic_text(body: dict) -> Any:
    return "I would type the text and then open the menu."


def _anthropic_invalid(body: dict) -> Any:
    return {"actions": "type it"}


def _anthropic_refusal(body: dict) -> Any:
    return ant.message([{"type": "text", "text": "I can't help with that."}], stop_reason="refusal")


BAD = [
    ("anthropic", _anthropic_text, "without calling the tool FusedStep", 3),
    ("anthropic", _anthropic_invalid, "tool input does not fit FusedStep", 3),
    ("anthropic", _anthropic_refusal, "refused to answer", 3),
    (
        "anthropic",
        lambda body: ant.error(401, "authentication_error", "invalid x-api-key"),
        "check ANTHROPIC_API_KEY",
        1,
    ),
    (
        "anthropic",
        lambda body: ant.error(529, "overloaded_error", "Overloaded"),
        "overloaded (529)",
        1,
    ),
    ("openai-responses", lambda body: "no JSON here", "reply does not fit FusedStep", 3),
    (
        "openai-responses",
        lambda body: resp.response([resp.refusal_message("No.")]),
        "refused to answer",
        3,
    ),
    (
        "openai-responses",
        lambda body: resp.error(401, "Incorrect API key", "invalid_api_key"),
        "check OPENAI_API_KEY",
        1,
    ),
]


@pytest.mark.parametrize(
    ("provider", "handler", "reason", "steps"),
    BAD,
    ids=[f"{p}-{r.split()[0]}-{n}" for n, (p, _, r, _) in enumerate(BAD)],
)
def test_bad_replies_stop_with_one_line_and_exit_4(
    tmp_path: Path, provider: str, handler: Any, reason: str, steps: int
) -> None:
    server_type, _ = PROVIDERS[provider]
    with server_type(handler) as server:
        run = _cradle(tmp_path, provider, server.base_url, judged=False)
    info = assert_clean_stop(run, 4, "model_failure", reason)
    recorded = run.steps()
    assert len(recorded) == steps and all(s["model_calls"] for s in recorded)
    assert all(c["error"] for s in recorded for c in s["model_calls"])
    assert KEY not in info["reason"] and not leaks(run.run_dir, KEY)
    if steps == 1:
        assert recorded[0]["model_calls"][0]["request_failed"]
    assert len(server.requests) == sum(len(s["model_calls"]) for s in recorded)


def test_a_missing_key_names_the_providers_variable(tmp_path: Path) -> None:
    run = _cradle(tmp_path, "anthropic", "https://api.anthropic.com", key=None)
    assert run.code == 2 and "Traceback" not in run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert "ANTHROPIC_API_KEY" in line
    with FakeOpenAIServer() as server:
        run = _cradle(tmp_path, "anthropic", server.base_url, "--response-mode", "prompt")
    assert run.code == 2 and "--response-mode" in run.stderr


def test_eval_runs_the_task_through_the_anthropic_provider(tmp_path: Path) -> None:
    """`cradle eval --provider anthropic`: the worker builds the provider from the settings
    it is handed, reads the key from ANTHROPIC_API_KEY, and the checker passes the task."""
    (tmp_path / "tasks.yaml").write_text(TASK_FILE)
    env = cradle_env({"ANTHROPIC_API_KEY": KEY})
    env.pop("ANTHROPIC_BASE_URL", None)
    with ant.FakeAnthropicServer(Script("anthropic")) as server:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cradle",
                "eval",
                str(tmp_path / "tasks.yaml"),
                "--provider",
                "anthropic",
                "--base-url",
                server.base_url,
                "--model",
                "fake-cua",
                "--out",
                str(tmp_path / "out"),
                "--max-retries",
                "0",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["passed"] == 1 and summary["tasks"] == 1
    assert len(server.requests) == 3
    assert all(KEY in h.get("x-api-key", "") + h.get("authorization", "") for h in server.headers)
    assert not leaks(tmp_path / "out", KEY)
