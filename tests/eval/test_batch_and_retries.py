"""`cradle run --tasks-file` (a batch of instructions through cradle eval's pool) and
`--retries` for crashed episodes, on this machine."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cradle.errors import UsageError
from cradle.tasks.batch import instruction_tasks
from tests.eval.helpers import CRASH_ONCE, cradle_eval, results, summary, write_suite
from tests.eval.test_eval_openai_server import _fused
from tests.fakes.openai_server import FakeOpenAIServer

INSTRUCTIONS = """\
# a comment, then a blank line

Type hi in the editor
Wander about without ever finishing
"""


class BatchModel:
    """Types and declares done for the first instruction; never done for the second."""

    def __call__(self, body: dict) -> dict:
        if "Wander" in json.dumps(body["messages"]):
            return _fused([], done=False)
        return _fused(["type_text(text='hi')"], done=True)


def cradle_run(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    full.pop("OPENAI_BASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cradle", "run", *map(str, args)],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=240,
    )


def batch_args(folder: Path, server: FakeOpenAIServer, *more: str | Path) -> list[str | Path]:
    (folder / "instructions.txt").write_text(INSTRUCTIONS)
    return [
        "--env",
        "mock-notepad",
        "--tasks-file",
        folder / "instructions.txt",
        "--base-url",
        server.base_url,
        "--model",
        "fake-vlm",
        "--max-steps",
        "2",
        *more,
    ]


def test_a_batch_runs_each_instruction_as_an_unchecked_episode(tmp_path: Path) -> None:
    """Each line is an episode in a worker; with no checks, the model's done is what passes
    (and the output says it is only a claim); exit 1 as one episode never ended done."""
    with FakeOpenAIServer(BatchModel()) as server:
        done = cradle_run(
            *batch_args(tmp_path, server, "--workers", "2", "--out", tmp_path / "out"), cwd=tmp_path
        )
    assert done.returncode == 1, done.stderr
    lines = results(tmp_path / "out")
    assert set(lines) == {"line-0003", "line-0004"}  # ids are line numbers
    typed, wandered = lines["line-0003"], lines["line-0004"]
    assert typed["success"] is True and typed["checks"] == [] and typed["error"] is None
    assert wandered["success"] is False and wandered["error"].startswith("budget_exhausted")
    assert wandered["steps"] == 2
    verdict = json.loads((Path(typed["run_dir"]) / "verdict.json").read_text())
    assert verdict["status"] == "done" and verdict["checks"] == []
    assert summary(tmp_path / "out")["workers"] == 2
    assert "1/2 episodes ended with the model's done (a claim" in done.stderr
    again = cradle_run(
        "--env",
        "mock-notepad",
        "--tasks-file",
        tmp_path / "instructions.txt",
        "--resume",
        tmp_path / "out",
        cwd=tmp_path,
    )
    assert again.returncode == 1, again.stderr  # nothing left to run; same verdicts
    assert "resuming: 2 task(s) already" in again.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--dry-run"], "--dry-run: not with --tasks-file"),
        (["--workers", "2", "--ray", "127.0.0.1:1"], "--workers is for this machine"),
        (["--shared-out", "."], "--shared-out needs --ray"),
    ],
)
def test_a_batch_refuses_what_does_not_apply(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    (tmp_path / "i.txt").write_text("do it\n")
    done = cradle_run(
        "--env", "mock-notepad", "--tasks-file", tmp_path / "i.txt", *extra, cwd=tmp_path
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_batch_flags_need_a_tasks_file(tmp_path: Path) -> None:
    done = cradle_run("--env", "mock-notepad", "--task", "x", "--workers", "2", cwd=tmp_path)
    assert done.returncode == 2 and "needs --tasks-file" in done.stderr, done.stderr


def test_an_instruction_file_becomes_unchecked_tasks(tmp_path: Path) -> None:
    path = tmp_path / "i.txt"
    path.write_text(INSTRUCTIONS)
    tasks = instruction_tasks(
        path, environment="mock-notepad", env_options={"text": "x"}, max_steps=3, timeout=None
    )
    assert [
        (t.id, t.instruction, t.check, t.max_steps, t.timeout, t.env_options["text"]) for t in tasks
    ] == [
        ("line-0003", "Type hi in the editor", [], 3, 300.0, "x"),
        ("line-0004", "Wander about without ever finishing", [], 3, 300.0, "x"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("# only a comment\n\n", "no instruction in it"),
        (b"caf\xe9\n", "not UTF-8 text"),
        ("ok\n" + "x" * 10_001 + "\n", "i.txt:2: instruction: String should have at most"),
    ],
)
def test_a_bad_instruction_file_is_one_line(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "i.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        instruction_tasks(path, environment="e", env_options={}, max_steps=3, timeout=60)


def _crash_once_suite(folder: Path) -> Path:
    return write_suite(folder, [copy.deepcopy(CRASH_ONCE)])


def test_a_crashed_episode_is_attempted_again(tmp_path: Path) -> None:
    """The first worker dies (SIGKILL) without a result: a note, a second attempt, a pass."""
    done = cradle_eval(
        _crash_once_suite(tmp_path / "tasks"),
        "--reference",
        "--out",
        tmp_path / "out",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "crashed: the worker was killed by SIGKILL" in done.stderr
    assert "trying again" in done.stderr
    line = results(tmp_path / "out")[CRASH_ONCE["id"]]
    assert line["success"] is True and line["error"] is None
    assert len(list((tmp_path / "out" / "runs" / CRASH_ONCE["id"]).iterdir())) == 2


def test_with_no_retries_a_crash_fails_the_task(tmp_path: Path) -> None:
    done = cradle_eval(
        _crash_once_suite(tmp_path / "tasks"),
        "--reference",
        "--retries",
        "0",
        "--out",
        tmp_path / "out",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    line: dict[str, Any] = results(tmp_path / "out")[CRASH_ONCE["id"]]
    assert line["success"] is False
    assert line["error"].startswith("crashed: the worker was killed by SIGKILL")
    assert "attempts" not in line["error"]
