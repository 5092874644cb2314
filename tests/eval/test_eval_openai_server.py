"""A task file in the documented format, driven by a model behind an OpenAI-compatible server:
the checker decides, whatever the model claims."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tests.eval.helpers import cradle_eval, results, summary
from tests.fakes.openai_server import FakeOpenAIServer

TASKS = """\
- id: notepad-save-hello
  instruction: "Write 'hello' in the editor and save it as note.txt"
  environment: mock-notepad
  env_options: {size: "800x600"}
  setup:
    - run: "rm -f ~/note.txt && echo prepared > ~/prepared.txt"
    - file: {path: "~/draft.txt", content: "draft"}
  check:
    - command: "grep -qx prepared ~/prepared.txt"
    - file: {path: "~/draft.txt", contains: "draft"}
    - state: {files: {note.txt: "hello"}}
  max_steps: 5
  timeout: 120
  reference:
    - ["type_text(text='hello')", "hotkey('ctrl', 's')"]
    - ["type_text(text='note.txt')", "press_key(key='enter')"]

- id: notepad-claims-done
  instruction: "Write 'bye' in the editor and save it as bye.txt"
  environment: mock-notepad
  check:
    - state: {files: {bye.txt: "bye"}}
  max_steps: 5
  timeout: 120
"""


def _fused(actions: list[str], done: bool) -> dict[str, Any]:
    return {
        "information_gathering": {
            "screen_description": "Notepad.",
            "visible_text": [],
            "elements": [],
        },
        "self_reflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
        "task_inference": {"subtask": "go on", "reasoning": "next"},
        "skill_curation": {"relevant_skills": [], "new_skills": []},
        "action_planning": {"reasoning": "next", "actions": actions, "done": done},
    }


class Model:
    """Saves hello.txt properly for the first task; claims the second done at once."""

    def __init__(self) -> None:
        self.steps: Counter[str] = Counter()

    def __call__(self, body: dict) -> dict:
        prompt = json.dumps(body["messages"])
        if "bye.txt" in prompt:
            return _fused([], done=True)
        self.steps["hello"] += 1
        if self.steps["hello"] == 1:
            return _fused(["type_text(text='hello')", "hotkey('ctrl', 's')"], done=False)
        return _fused(["type_text(text='note.txt')", "press_key(key='enter')"], done=True)


def test_task_file_runs_against_an_openai_compatible_server(tmp_path: Path) -> None:
    (tmp_path / "tasks.yaml").write_text(TASKS)
    model = Model()
    with FakeOpenAIServer(model) as server:
        done = cradle_eval(
            tmp_path / "tasks.yaml",
            "--base-url",
            server.base_url,
            "--model",
            "fake-vlm",
            "--workers",
            "2",
            "--out",
            tmp_path / "out",
            cwd=tmp_path,
            env={"OPENAI_API_KEY": "sk-eval-secret-value"},
        )
    assert done.returncode == 1, done.stderr  # one task failed
    lines = results(tmp_path / "out")
    hello, claimed = lines["notepad-save-hello"], lines["notepad-claims-done"]
    assert hello["success"] is True and [c["passed"] for c in hello["checks"]] == [True] * 3
    assert hello["model_calls"] == 2 and hello["tokens"] == 2 * 120
    assert claimed["success"] is False and claimed["error"] is None  # the model said done
    assert "bye.txt" in claimed["checks"][0]["detail"]
    assert all(body["model"] == "fake-vlm" for body in server.requests)
    assert summary(tmp_path / "out")["success_rate"] == 0.5
    everything = "".join(
        p.read_text(errors="ignore")
        for p in (tmp_path / "out").rglob("*")
        if p.is_file() and p.suffix in (".json", ".jsonl", ".html", ".log")
    )
    assert "sk-eval-secret-value" not in everything + done.stderr


SKILL = '''from cradle.skills import skill


@skill
def jot_unique_marker_note(screen, text: str) -> None:
    """Type a note.

    Args:
        text: What to type.
    """
    type_text(text=text)
'''

TWO = """\
- id: writes-a-skill
  instruction: "Type 'one' in the editor"
  environment: mock-notepad
  check:
    - state: {text: "one"}
  max_steps: 3
- id: other-episode
  instruction: "Type 'two' in the editor"
  environment: mock-notepad
  check:
    - state: {text: "two"}
  max_steps: 3
"""


class SkillWriter:
    """The first task's model proposes a skill and then uses it; the second just types."""

    def __init__(self) -> None:
        self.prompts: dict[str, list[str]] = {"one": [], "two": []}

    def __call__(self, body: dict) -> dict:
        prompt = json.dumps(body["messages"])
        task = "one" if "Type 'one'" in prompt else "two"
        self.prompts[task].append(prompt)
        if task == "two":
            done = len(self.prompts["two"]) == 2
            return _fused([] if done else ["type_text(text='two')"], done=done)
        if len(self.prompts["one"]) == 1:
            reply = _fused([], done=False)
            reply["skill_curation"]["new_skills"] = [SKILL]
            return reply
        return _fused(["jot_unique_marker_note(text='one')"], done=True)


def test_a_skill_one_episode_writes_is_not_seen_by_another(tmp_path: Path) -> None:
    (tmp_path / "tasks.yaml").write_text(TWO)
    model = SkillWriter()
    with FakeOpenAIServer(model) as server:
        done = cradle_eval(
            tmp_path / "tasks.yaml",
            "--base-url",
            server.base_url,
            "--workers",
            "2",
            "--out",
            tmp_path / "out",
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stderr
    lines = results(tmp_path / "out")
    assert lines["writes-a-skill"]["success"] and lines["other-episode"]["success"]
    assert "jot_unique_marker_note" in model.prompts["one"][-1]  # it used its own skill
    assert not any("jot_unique_marker_note" in p for p in model.prompts["two"])
    saved = list((tmp_path / "out" / "runs").rglob("*.py"))
    assert len(saved) == 1 and "writes-a-skill" in str(saved[0])
    assert not (tmp_path / "generated_skills").exists()
