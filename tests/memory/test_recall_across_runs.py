"""Memory across runs, through `cradle run` as a user runs it: embedded and over a server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAIServer

CODE_WORD = "PERIWINKLE-42"


def _fused(body: dict, *, text: str) -> dict:
    """One step types ``text``; the next says done."""
    user = json.dumps(body["messages"])
    done = "Recent steps" in user  # the window shows the typing step once it happened
    return {
        "information_gathering": {
            "screen_description": "notepad",
            "visible_text": [],
            "elements": [],
        },
        "self_reflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
        "task_inference": {"subtask": "Type the text", "reasoning": "r"},
        "skill_curation": {"relevant_skills": [], "new_skills": []},
        "action_planning": {
            "reasoning": "r",
            "actions": [] if done else [f"type_text(text={text!r})"],
            "done": done,
        },
    }


def _run(tmp_path: Path, task: str, memory_flags: list[str]) -> tuple[Path, str]:
    runs = tmp_path / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    with FakeOpenAIServer(lambda body: _fused(body, text="hello")) as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cradle",
                "run",
                "--env",
                "mock-notepad",
                "--task",
                task,
                "--base-url",
                server.base_url,
                "--runs-dir",
                str(runs),
                *memory_flags,
            ],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=tmp_path,
            env=dict(os.environ),
        )
    assert result.returncode == 0, result.stderr
    (folder,) = set(runs.iterdir()) - before
    return folder, result.stderr


def _prompts(run_dir: Path) -> str:
    lines = (run_dir / "trajectory.jsonl").read_text().splitlines()
    return "\n".join(call["prompt"] for line in lines for call in json.loads(line)["model_calls"])


@pytest.mark.parametrize("where", ["memory-dir", "memory-url"])
def test_second_run_recalls_the_first(tmp_path: Path, where: str, request) -> None:
    if where == "memory-dir":
        flags = ["--memory-dir", str(tmp_path / "memory")]
    else:
        url = request.getfixturevalue("chroma_server")
        flags = ["--memory-url", url]
        wipe = subprocess.run(
            [
                sys.executable,
                "-m",
                "cradle",
                "memory",
                "forget",
                "--all",
                "--yes",
                "--memory-url",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert wipe.returncode == 0, wipe.stderr

    first, first_err = _run(tmp_path, f"Write the code word {CODE_WORD} in the notes", flags)
    second, second_err = _run(tmp_path, "Write the code word from last time in the notes", flags)

    recalled = _prompts(second)
    assert "Memories from earlier runs" in recalled
    assert CODE_WORD in recalled
    for err in (first_err, second_err):
        assert "hashing" not in err.lower()

    search = subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "memory",
            "search",
            "the secret word typed into the notes earlier",
            "--json",
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert search.returncode == 0, search.stderr
    assert CODE_WORD in search.stdout

    stats = subprocess.run(
        [sys.executable, "-m", "cradle", "memory", "stats", "--json", *flags],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stats.returncode == 0, stats.stderr
    info = json.loads(stats.stdout)
    assert "minilm" in str(info["embedder"]).lower()
    assert info["runs"] >= 2
