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
        "information_gathering": {"screen_description": "Notepad.", "visible_text": [],
                                  "elements": []},
        "self_reflection": {"last_actions_succeeded": True, "analysis": "ok",
                            "failure_reason": ""},
        "task_inference": {"subtask": "go on", "reasoning": "next", "task_done": done},
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
        done = cradle_eval(tmp_path / "tasks.yaml", "--base-url", server.base_url,
                           "--model", "fake-vlm", "--workers", "2", "--out", tmp_path / "out",
                           cwd=tmp_path, env={"OPENAI_API_KEY": "sk-eval-secret-value"})
    assert done.returncode == 1, done.stderr  # one task failed
    lines = results(tmp_path / "out")
    hello, claimed = lines["notepad-save-hello"], lines["notepad-claims-done"]
    assert hello["success"] is True and [c["passed"] for c in hello["checks"]] == [True] * 3
    assert hello["model_calls"] == 2 and hello["tokens"] == 2 * 120
    assert claimed["success"] is False and claimed["error"] is None  # the model said done
    assert "bye.txt" in claimed["checks"][0]["detail"]
    assert all(body["model"] == "fake-vlm" for body in server.requests)
    assert summary(tmp_path / "out")["success_rate"] == 0.5
    everything = "".join(p.read_text(errors="ignore")
                         for p in (tmp_path / "out").rglob("*") if p.is_file()
                         and p.suffix in (".json", ".jsonl", ".html", ".log"))
    assert "sk-eval-secret-value" not in everything + done.stderr
