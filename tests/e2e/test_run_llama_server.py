"""`cradle run` against a fake that answers like llama-cpp-python serving a text-only model.

The fake refuses exactly what the real server was measured to refuse (see
tests/fakes/llama_cpp_server.py); tests/e2e/test_real_server.py (``pytest -m realserver``)
runs the real one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.fakes.llama_cpp_server import LlamaCppLike, format_kind, requested_output
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.helpers import FILLER, Finished, Plans, cradle_env

TYPED = "Hello from the fake model"
TASK_FILE = f"""
- id: type-hello
  instruction: "Type '{TYPED}'"
  environment: mock-notepad
  check:
    - state: {{text: "{TYPED}"}}
  max_steps: 4
"""


class ModuleAnswers:
    """Modular replies by the schema a request carries: the plan types, then says done."""

    def __init__(self) -> None:
        self.plans = 0

    def __call__(self, body: dict) -> dict:
        name = requested_output(body)
        if name == "ActionPlan":
            self.plans += 1
            actions = [f"type_text(text={TYPED!r})"] if self.plans == 1 else []
            return {"reasoning": "scripted", "actions": actions, "done": self.plans > 1}
        key = re.sub(r"(?<!^)([A-Z])", r"_\1", name or "").lower()
        return FILLER[key]


def _run(tmp_path: Path, base_url: str, *args: str) -> Finished:
    (tmp_path / "tasks.yaml").write_text(TASK_FILE)
    command = [
        sys.executable,
        "-m",
        "cradle",
        "run",
        "--task-file",
        str(tmp_path / "tasks.yaml"),
        "--base-url",
        base_url,
        "--model",
        "smollm2",
        "--no-memory",
        "--settle",
        "0",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--generated-skills-dir",
        str(tmp_path / "generated"),
        *args,
    ]
    done = subprocess.run(
        command, cwd=tmp_path, env=cradle_env(), capture_output=True, text=True, timeout=180
    )
    return Finished(done.returncode, done.stdout, done.stderr, 0.0, tmp_path / "runs")


def _user_texts(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def test_text_only_llama_server_completes_the_task_with_no_vision(tmp_path: Path) -> None:
    llama = LlamaCppLike(Plans([f"type_text(text={TYPED!r})"]))
    with FakeOpenAIServer(llama) as server:
        run = _run(tmp_path, server.base_url, "--no-vision")
    assert run.code == 0, run.stderr[-3000:]
    verdict = json.loads((run.run_dir / "verdict.json").read_text())
    assert verdict["success"] is True  # the app's own text, checked on the final state
    # One refused json_schema (no retries of its 500), then json_object with the schema.
    assert llama.formats == ["json_schema", "json_object_schema", "json_object_schema"]
    assert "list_content" not in llama.refused
    assert all(isinstance(m["content"], str) for b in server.requests for m in b["messages"])
    assert all(b["max_tokens"] == 2048 for b in server.requests)  # the fused step's budget
    # The prompt carries what OCR read on screen: the typed text at step 2.
    step2 = " ".join(_user_texts(server.requests[2]))
    assert "No screenshot is attached" in step2
    assert re.search(r"fake\s+model", step2, re.IGNORECASE), step2[-1500:]
    # The run folder shows the fallback: the refused request, its prompt, error and latency.
    first = run.steps()[0]["model_calls"]
    assert [c["response_mode"] for c in first] == ["json_schema", "json_object_schema"]
    refused = first[0]
    assert refused["request_failed"] and "500" in refused["error"]
    assert TYPED in refused["prompt"] and refused["latency_ms"] > 0
    assert "failed" in run.stderr and "trying json_object_schema" in run.stderr


def test_an_image_to_a_text_only_server_stops_with_the_no_vision_hint(tmp_path: Path) -> None:
    llama = LlamaCppLike(Plans([f"type_text(text={TYPED!r})"]))
    with FakeOpenAIServer(llama) as server:
        run = _run(tmp_path, server.base_url)
    assert run.code == 4, run.stderr[-3000:]
    assert "--no-vision" in run.stderr and "Traceback" not in run.stderr
    assert llama.refused == ["json_schema", "list_content"]  # each 500 sent once
    (step,) = run.steps()
    calls = step["model_calls"]
    assert [c["response_mode"] for c in calls] == ["json_schema", "json_object_schema"]
    assert all(c["request_failed"] and TYPED in c["prompt"] and c["images"] == 1 for c in calls)
    assert "--no-vision" in calls[-1]["error"]
    assert run.info()["status"] == "model_failure"


def test_response_mode_and_max_output_tokens_reach_every_request(tmp_path: Path) -> None:
    with FakeOpenAIServer(Plans([f"type_text(text={TYPED!r})"])) as server:
        run = _run(
            tmp_path, server.base_url, "--response-mode", "prompt", "--max-output-tokens", "300"
        )
    assert run.code == 0, run.stderr[-3000:]
    assert {format_kind(b) for b in server.requests} == {"prompt"}
    assert {b["max_tokens"] for b in server.requests} == {300}


def test_modular_no_vision_sends_no_image_and_sizes_replies_per_module(tmp_path: Path) -> None:
    llama = LlamaCppLike(ModuleAnswers())
    with FakeOpenAIServer(llama) as server:
        run = _run(tmp_path, server.base_url, "--no-vision", "--mode", "modular")
    assert run.code == 0, run.stderr[-3000:]
    assert "list_content" not in llama.refused
    budgets = {b["max_tokens"] for b in server.requests}
    assert budgets <= {512, 1024, 2048} and len(budgets) >= 2, budgets
    assert run.steps()[0]["model_calls"][0]["request_failed"]


def test_bad_response_mode_is_a_usage_error(tmp_path: Path) -> None:
    run = _run(tmp_path, "http://127.0.0.1:9/v1", "--response-mode", "xml")
    assert run.code == 2 and "--response-mode" in run.stderr
    assert "Traceback" not in run.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "cradle", "eval", "--help"],
        capture_output=True,
        text=True,
        env=cradle_env(),
        timeout=60,
    )
    for flag in ("--no-vision", "--response-mode", "--max-output-tokens"):
        assert flag in help_text.stdout
