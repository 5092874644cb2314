"""`cradle run --task-file FILE [--task-id ID]`: one task as one episode, judged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.helpers import Plans, cradle_env

TASK_FILE = """
- id: type-hello
  instruction: Type hello
  environment: mock-notepad
  setup:
    - file: {path: "~/draft.txt", content: "draft"}
  check:
    - state: {text: hello}
    - file: {path: "~/draft.txt", equals: "draft"}
    - command: "test -f ~/draft.txt"
  max_steps: 3
- id: other
  instruction: Type bye
  environment: mock-notepad
  check:
    - state: {text: bye}
"""


def _cradle_run(tmp_path: Path, base_url: str, *args: str) -> Any:
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
        "fake-vlm",
        "--no-memory",
        "--runs-dir",
        "runs",
        "--generated-skills-dir",
        str(tmp_path / "generated"),
        "--settle",
        "0",
        *args,
    ]
    return subprocess.run(
        command, cwd=tmp_path, env=cradle_env(), capture_output=True, text=True, timeout=120
    )


def test_cradle_run_task_file_exits_0_only_when_the_checks_pass(tmp_path: Path) -> None:
    with FakeOpenAIServer(Plans(["type_text(text='hello')"])) as server:
        passed = _cradle_run(tmp_path, server.base_url, "--task-id", "type-hello")
    assert passed.returncode == 0, passed.stderr[-2000:]
    out = passed.stdout + passed.stderr
    assert "task type-hello: PASSED" in out and "check  pass state" in out
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "place" / "home" / "draft.txt").read_text() == "draft"
    assert json.loads((run_dir / "verdict.json").read_text())["id"] == "type-hello"

    with FakeOpenAIServer(Plans()) as server:  # the model says done at once
        failed = _cradle_run(tmp_path, server.base_url, "--task-id", "type-hello")
    assert failed.returncode == 1, failed.stderr[-2000:]
    out = failed.stdout + failed.stderr
    assert "episode: done after 1 step(s)" in out and "task type-hello: FAILED" in out
    assert "Traceback" not in out


def test_cradle_run_task_file_needs_an_id_for_several_tasks(tmp_path: Path) -> None:
    result = _cradle_run(tmp_path, "http://127.0.0.1:9/v1")
    assert result.returncode == 2
    assert "holds 2 tasks; choose one with --task-id (ids: type-hello, other)" in result.stderr
    result = _cradle_run(tmp_path, "http://127.0.0.1:9/v1", "--task-id", "nope")
    assert result.returncode == 2 and "no task with id 'nope'" in result.stderr
    assert not (tmp_path / "runs").exists()
