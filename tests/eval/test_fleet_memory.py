"""One memory and one skills flow for the episodes of `cradle eval`: long-term memory on a
Chroma server every worker shares, and skills promoted by the driver alone, only for tasks
that passed."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cradle.eval.fleet import MAX_PROPOSED_SKILLS, SharedSkills
from cradle.eval.jobs import EvalJob, EvalResult
from cradle.eval.options import EvalOptions
from cradle.eval.progress import EvalProgress
from cradle.eval.scheduler import Scheduler
from cradle.memory.store import VectorMemory
from cradle.processes import free_port
from cradle.testing.chroma_server import local_chroma_server
from cradle.types import Task
from tests.eval.helpers import RESULT_KEYS, cradle_eval, results, summary
from tests.fakes.openai_server import FakeOpenAIServer

CODE_WORD = "PERIWINKLE-42"
LISTED = "{}(text: str) -> None"
"""How the prompt lists a skill (a memory of a step shows calls, not signatures)."""

FIRST = """\
- id: remember-the-code
  instruction: "Type the code word PERIWINKLE-42 in the notes"
  environment: mock-notepad
  check:
    - state: {text: "PERIWINKLE-42"}
  max_steps: 4
- id: fails-with-a-skill
  instruction: "Type 'oops' in the notes"
  environment: mock-notepad
  check:
    - state: {text: "something else"}
  max_steps: 4
"""

SECOND = """\
- id: recall-the-code
  instruction: "Type the code word from last time in the notes"
  environment: mock-notepad
  check:
    - state: {text: "PERIWINKLE-42"}
  max_steps: 3
"""


def _skill(name: str) -> str:
    return f'''from cradle.skills import skill


@skill
def {name}(screen, text: str) -> None:
    """Type a note.

    Args:
        text: What to type.
    """
    type_text(text=text)
'''


def _fused(actions: list[str], done: bool, new_skills: list[str] = ()) -> dict[str, Any]:
    return {
        "information_gathering": {
            "screen_description": "Notepad.",
            "visible_text": [],
            "elements": [],
        },
        "self_reflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
        "task_inference": {"subtask": "go on", "reasoning": "next"},
        "skill_curation": {"relevant_skills": [], "new_skills": list(new_skills)},
        "action_planning": {"reasoning": "next", "actions": actions, "done": done},
    }


def _user_text(body: dict) -> str:
    """The text of the request's user message (the prompt starts with ``Task: ...``)."""
    for message in body["messages"]:
        if message["role"] == "user":
            content = message["content"]
            parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
            return "".join(p.get("text", "") for p in parts if p.get("type") == "text")
    return ""


class Model:
    """The code task writes a skill and types the word with it; the failing task writes
    another skill and types the wrong text; the recall task types with the first skill (if
    its prompt lists it: promoted, then loaded) the code word (if its prompt holds it: from
    long-term memory), else a wrong word."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.prompts: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> dict[str, Any]:
        prompt = json.dumps(body["messages"])
        # by the first line only: recalled memories quote other tasks' "Task: ..." lines
        first_line = _user_text(body).split("\n", 1)[0]
        task = (
            "recall"
            if "from last time" in first_line
            else "code"
            if CODE_WORD in first_line
            else "fails"
        )
        with self.lock:
            self.calls[task] += 1
            self.prompts.setdefault(task, []).append(prompt)
            first = self.calls[task] == 1
        if task == "recall":
            word = CODE_WORD if CODE_WORD in prompt else "no idea"
            if LISTED.format("jot_marker_note") not in prompt:
                word = "the promoted skill is missing"
            return _fused([f"jot_marker_note(text={word!r})"], done=True)
        if task == "code":
            return (
                _fused([], False, [_skill("jot_marker_note")])
                if first
                else _fused([f"jot_marker_note(text={CODE_WORD!r})"], done=True)
            )
        return (
            _fused([], False, [_skill("scribble_failing_note")])
            if first
            else _fused(["scribble_failing_note(text='oops')"], done=True)
        )


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    with local_chroma_server(tmp_path / "chroma", log=tmp_path / "chroma.log") as url:
        yield url


def test_memory_and_promoted_skills_reach_an_episode_of_another_worker(
    tmp_path: Path, chroma_url: str
) -> None:
    (tmp_path / "first.yaml").write_text(FIRST)
    (tmp_path / "second.yaml").write_text(SECOND)
    shared = tmp_path / "team-skills"
    model = Model()
    common = ["--memory-url", chroma_url, "--generated-skills-dir", shared, "--workers", "2"]
    with FakeOpenAIServer(model) as server:
        first = cradle_eval(
            tmp_path / "first.yaml",
            "--base-url",
            server.base_url,
            *common,
            "--out",
            tmp_path / "one",
            cwd=tmp_path,
        )
        assert first.returncode == 1, first.stderr  # the failing task failed
        second = cradle_eval(
            tmp_path / "second.yaml",
            "--base-url",
            server.base_url,
            *common,
            "--out",
            tmp_path / "two",
            cwd=tmp_path,
        )
    assert second.returncode == 0, second.stderr

    one = results(tmp_path / "one")
    assert one["remember-the-code"]["success"] and not one["fails-with-a-skill"]["success"]
    assert results(tmp_path / "two")["recall-the-code"]["success"]  # it recalled the word
    assert CODE_WORD in model.prompts["recall"][0]
    assert "Memories from earlier runs" in model.prompts["recall"][0]
    assert all(set(line) == RESULT_KEYS for line in one.values())  # no skills in results

    # only the passing task's skill was promoted, by the driver, and the next eval loaded it
    assert sorted(p.name for p in shared.iterdir()) == ["jot_marker_note.py"]
    run_id = Path(one["remember-the-code"]["run_dir"]).name
    assert f"# Run: {run_id}\n" in (shared / "jot_marker_note.py").read_text()
    assert LISTED.format("jot_marker_note") in model.prompts["recall"][0]
    assert not any(LISTED.format("scribble_failing_note") in p for p in model.prompts["recall"])
    assert LISTED.format("scribble_failing_note") in model.prompts["fails"][-1]
    skills = summary(tmp_path / "one")["skills"]
    assert skills["folder"] == str(shared) and skills["loaded_by_episodes"] is True
    assert skills["tasks"] == {
        "remember-the-code": {"promoted": ["jot_marker_note.py"], "skipped": []},
        "fails-with-a-skill": {
            "promoted": [],
            "skipped": ["scribble_failing_note: the task did not pass"],
        },
    }
    assert summary(tmp_path / "two")["memory"] == chroma_url

    with VectorMemory.open(None, chroma_url, embedder=None) as memory:
        stats = memory.stats()
    assert stats["environments"].get("mock-notepad", 0) >= 4 and stats["runs"] == 3


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--memory-dir", "mem", "--workers", "2"],
            "--memory-dir cannot be shared by several workers (chromadb's embedded store is not "
            "safe for several processes): use --memory-url with a `chroma run` server, "
            "or --workers 1",
        ),
        (
            ["--no-memory", "--memory-url", "http://127.0.0.1:9"],
            "give --no-memory or --memory-url/--memory-dir, not both",
        ),
        (
            ["--memory-url", "URL"],
            "cannot reach the memory server at URL: is `chroma run` running?",
        ),
    ],
)
def test_memory_flags_that_cannot_work_are_one_line_errors(
    tmp_path: Path, flags: list[str], message: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    flags = [url if flag == "URL" else flag for flag in flags]
    (tmp_path / "t.yaml").write_text(SECOND)
    done = cradle_eval(
        tmp_path / "t.yaml",
        "--reference",
        *flags,
        "--out",
        tmp_path / "out",
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [f"cradle: error: {message.replace('URL', url)}"]
    assert not (tmp_path / "out" / "results.jsonl").exists()


TASK = Task(id="t", instruction="Type", environment="mock-notepad", check=[{"state": {}}])


def test_the_driver_checks_again_and_bounds_what_a_worker_sends(tmp_path: Path) -> None:
    shared = SharedSkills(tmp_path / "shared", load=True)
    forged = "import os\n\n\ndef wipe(screen) -> None:\n    os.system('rm -rf ~')\n"
    many = [_skill(f"note_{n}") for n in range(MAX_PROPOSED_SKILLS + 2)]
    shared.take(TASK, EvalResult(id="t", success=True, skills=[forged, *many]))
    entry = shared.tasks["t"]
    assert entry["skipped"][0] == "3 skill(s): over the bound of what an episode may propose"
    assert any("rejected by the checker" in reason for reason in entry["skipped"])
    assert len(entry["promoted"]) == MAX_PROPOSED_SKILLS - 1
    assert not any("os.system" in p.read_text() for p in (tmp_path / "shared").iterdir())
    assert len(shared.for_job()) == MAX_PROPOSED_SKILLS - 1


def test_a_job_carries_the_memory_and_skills_but_never_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "team-skills"
    shared = SharedSkills(folder, load=True)
    shared.take(TASK, EvalResult(id="t", success=True, skills=[_skill("jot_note")]))
    memory = {"enabled": True, "memory_url": "http://chroma.example:8000"}
    options = EvalOptions(out=tmp_path / "out", memory=memory, generated_skills_dir=folder)
    scheduler = Scheduler(options, tmp_path / "out", EvalProgress(1), {}, shared)
    sent = scheduler.job(TASK, tmp_path / "out" / "runs").model_dump_json()
    job = EvalJob.model_validate_json(sent)
    assert job.memory == memory and job.skills == [_skill("jot_note").strip("\n") + "\n"]
    assert str(folder) not in sent
