"""A real `cradle run` in which the model proposes skills built to exhaust memory, loop forever
and exhaust the checker's recursion: each ends within the run's deadline, with its reason
recorded, the process tree stays small, and none of them is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAIServer

HEADER = "from cradle.skills import skill\n\n\n"

HUGE = (
    HEADER
    + f'''@skill
def blow_up(screen) -> int:
    """Build huge strings."""
    x = [{10**300}] * 200000
    return len(min(str(x), str(x), str(x), str(x)))
'''
)

FOREVER = (
    HEADER
    + '''@skill
def forever(screen) -> int:
    """Count for a very long time."""
    total = 0
    for i in range(10000):
        for j in range(10000):
            for k in range(10000):
                total += 1
    return total
'''
)

ROWS = [" + ".join(["1"] * 40)] * 50  # one expression of 2,000 terms, on 50 lines
SUM = " +\n        ".join(ROWS)
LONG_EXPRESSION = (
    HEADER
    + f'''@skill
def add_up(screen) -> int:
    """Add many ones."""
    return ({SUM})
'''
)

# Reports the largest resident size of any descendant of the wrapper (cradle and its skill
# processes), once they have all been reaped.
PEAK_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _step(actions: list[str], new_skills: list[str]) -> dict:
    return {
        "information_gathering": {
            "screen_description": "notepad",
            "visible_text": [],
            "elements": [],
        },
        "self_reflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
        "task_inference": {"subtask": "try skills", "reasoning": "r"},
        "skill_curation": {"relevant_skills": [], "new_skills": new_skills},
        "action_planning": {"reasoning": "r", "actions": actions, "done": False},
    }


def test_hostile_generated_skills_end_within_the_run_deadline(tmp_path: Path) -> None:
    replies = [
        _step(["blow_up()"], [HUGE, FOREVER, LONG_EXPRESSION]),
        _step(["forever()"], []),
        _step(["add_up()"], []),
    ]
    generated = tmp_path / "generated"
    env = {**os.environ, "OPENAI_API_KEY": "sk-test"}
    env.pop("OPENAI_BASE_URL", None)
    with FakeOpenAIServer(replies=[json.dumps(r) for r in replies]) as server:
        start = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                PEAK_WRAPPER,
                sys.executable,
                "-m",
                "cradle",
                "run",
                "--env",
                "mock-notepad",
                "--task",
                "try the new skills",
                "--base-url",
                server.base_url,
                "--model",
                "fake",
                "--mode",
                "fused",
                "--max-steps",
                "3",
                "--max-time",
                "20",
                "--no-memory",
                "--runs-dir",
                str(tmp_path / "runs"),
                "--generated-skills-dir",
                str(generated),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        elapsed = time.monotonic() - start
    assert "Traceback" not in done.stderr, done.stderr
    assert elapsed < 20 + 10, elapsed  # the deadline plus start-up and the last step
    peak_mb = int(done.stderr.split("PEAK_KB")[1].split()[0]) / 1024
    assert peak_mb < 1024, peak_mb

    [run_dir] = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] != "running"
    steps = [json.loads(line) for line in (run_dir / "trajectory.jsonl").read_text().splitlines()]

    verdicts = {tuple(v.get("names", [])) or "rejected": v for v in steps[0]["new_skills"]}
    assert not verdicts["rejected"]["accepted"]
    assert "nested more than 100 levels" in verdicts["rejected"]["reason"]

    blow_up = steps[0]["actions"][0]
    assert blow_up["status"] == "failed" and "memory limit" in blow_up["error"]
    assert "removed" in blow_up["error"]
    forever = steps[1]["actions"][0]
    assert forever["status"] == "failed" and "time limit" in forever["error"]
    assert "removed" in forever["error"]
    assert list(generated.glob("*.py")) == []
