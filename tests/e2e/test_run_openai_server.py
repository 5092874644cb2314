"""`cradle run` end to end: a real process, the real openai client, a local fake server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.openai_server import FakeOpenAIServer
from tests.ocr import ocr_text

TYPED = "Hello from the fake model"

REPLIES = {
    "InformationGathering": {
        "screen_description": "A notepad window.",
        "visible_text": ["Untitled - Notepad"],
        "elements": [{"label": "File", "role": "menu", "x": 55, "y": 64}],
    },
    "SelfReflection": {
        "last_actions_succeeded": True,
        "analysis": "Text typed.",
        "failure_reason": "",
    },
    "TaskInference": {
        "subtask": "Type the text",
        "reasoning": "It is not there yet.",
    },
    "SkillCuration": {"relevant_skills": ["type_text"], "new_skills": []},
}


def _plan(step: int) -> dict:
    if step == 1:
        return {"reasoning": "type", "actions": [f"type_text(text={TYPED!r})"], "done": False}
    return {"reasoning": "it is typed", "actions": [], "done": True}


class ScriptedServer:
    """Answers by the schema each request asks for; counts action plans to know the step."""

    def __init__(self) -> None:
        self.plans = 0

    def __call__(self, body: dict) -> dict:
        name = body["response_format"]["json_schema"]["name"]
        if name == "ActionPlan":
            self.plans += 1
            return _plan(self.plans)
        if name == "FusedStep":
            self.plans += 1
            return {
                "information_gathering": REPLIES["InformationGathering"],
                "self_reflection": REPLIES["SelfReflection"],
                "task_inference": REPLIES["TaskInference"],
                "skill_curation": REPLIES["SkillCuration"],
                "action_planning": _plan(self.plans),
            }
        return REPLIES[name]


def _cradle(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("OPENAI_BASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cradle", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _only_run(runs: Path) -> Path:
    folders = [p for p in runs.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


@pytest.mark.parametrize("mode", ["modular", "fused"])
def test_run_against_local_openai_compatible_server(tmp_path: Path, mode: str) -> None:
    with FakeOpenAIServer(ScriptedServer()) as server:
        result = _cradle(
            "run",
            "--env",
            "mock-notepad",
            "--task",
            f"Type '{TYPED}'",
            "--base-url",
            server.base_url,
            "--model",
            "fake-vlm",
            "--mode",
            mode,
            "--max-steps",
            "5",
            "--runs-dir",
            str(tmp_path / "runs"),
            cwd=tmp_path,
            env={"OPENAI_API_KEY": "sk-e2e-secret-value"},
        )
    assert result.returncode == 0, result.stderr
    run_dir = _only_run(tmp_path / "runs")
    lines = (run_dir / "trajectory.jsonl").read_text().splitlines()
    steps = [json.loads(line) for line in lines]
    assert len(steps) == 2 and steps[-1]["done"] is True
    assert steps[0]["actions"][0]["status"] == "ok"

    final = Image.open(run_dir / steps[-1]["observation"]["screenshot"])
    assert TYPED.lower() in ocr_text(final).lower()

    requests = server.requests
    assert all(body["model"] == "fake-vlm" for body in requests)
    with_image = [i for i in range(len(requests)) if server.image_urls(i)]
    assert with_image, "no request carried the screenshot"
    assert server.image_urls(with_image[0])[0].startswith("data:image/")
    if mode == "modular":
        assert len(set(server.schema_names())) >= 3
        assert len(requests) >= 2 * 3
    else:
        assert len(requests) == len(steps)  # one request per step
        assert set(server.schema_names()) == {"FusedStep"}

    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "done" and info["exit_code"] == 0
    assert info["totals"]["input_tokens"] == 100 * len(requests)
    everything = "".join(p.read_text(errors="ignore") for p in run_dir.rglob("*.json*"))
    assert "sk-e2e-secret-value" not in everything + result.stdout + result.stderr


def test_unknown_environment_is_one_line_and_usage_exit(tmp_path: Path) -> None:
    result = _cradle(
        "run", "--env", "nope", "--task", "x", "--base-url", "http://127.0.0.1:9/v1", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "unknown environment 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_key_is_one_line_and_usage_exit(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "cradle", "run", "--env", "mock-notepad", "--task", "x"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no API key" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_server_keeps_the_run_folder(tmp_path: Path) -> None:
    result = _cradle(
        "run",
        "--env",
        "mock-notepad",
        "--task",
        "x",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--runs-dir",
        str(tmp_path / "runs"),
        cwd=tmp_path,
    )
    assert result.returncode == 4, result.stderr
    assert "cannot reach the model server" in result.stderr
    assert "Traceback" not in result.stderr
    run_dir = _only_run(tmp_path / "runs")
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "model_failure"
    steps = (run_dir / "trajectory.jsonl").read_text().splitlines()
    assert len(steps) == 1 and "cannot reach" in json.loads(steps[0])["errors"][0]
    assert (run_dir / "screenshots" / "step-0001.png").is_file()


def test_unparsable_replies_stop_with_model_exit(tmp_path: Path) -> None:
    with FakeOpenAIServer(lambda body: "this is not json") as server:
        result = _cradle(
            "run",
            "--env",
            "mock-notepad",
            "--task",
            "x",
            "--base-url",
            server.base_url,
            "--runs-dir",
            str(tmp_path / "runs"),
            cwd=tmp_path,
        )
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    run_dir = _only_run(tmp_path / "runs")
    lines = (run_dir / "trajectory.jsonl").read_text().splitlines()
    assert len(lines) == 3  # max_failed_steps consecutive failures, each recorded
    assert all(json.loads(line)["model_calls"] for line in lines)


def test_budget_exhausted_exit_code(tmp_path: Path) -> None:
    never_done = ScriptedServer()
    never_done_plan = {"reasoning": "again", "actions": ["wait(seconds=0)"], "done": False}

    def handler(body: dict) -> dict:
        name = body["response_format"]["json_schema"]["name"]
        reply = never_done(body)
        if name == "FusedStep":
            reply["action_planning"] = never_done_plan
        return reply

    with FakeOpenAIServer(handler) as server:
        result = _cradle(
            "run",
            "--env",
            "mock-notepad",
            "--task",
            "x",
            "--base-url",
            server.base_url,
            "--max-steps",
            "2",
            "--runs-dir",
            str(tmp_path / "runs"),
            cwd=tmp_path,
        )
    assert result.returncode == 3, result.stderr
    run_dir = _only_run(tmp_path / "runs")
    assert len((run_dir / "trajectory.jsonl").read_text().splitlines()) == 2
