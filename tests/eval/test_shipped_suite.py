"""The shipped task suite (environments/*/tasks/): its size and shape, its web app, and that
every reference solution passes while every checker fails on the untouched start.

The two `cradle eval` runs drive real apps (mousepad, galculator, xterm, Chromium) on virtual
displays: tests/debian-packages.txt lists what they need, and tests/run.sh installs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cradle.environment import discover_environments, load_environment
from cradle.eval.harness import shipped_suite
from cradle.eval.jobs import EvalJob
from cradle.paths import shared_skills_dir
from cradle.skills.parser import parse_action
from cradle.skills.registry import SkillRegistry
from cradle.tasks import load_tasks
from cradle.tasks.setup import EpisodePlace, run_setup
from cradle.types import Task
from tests.eval.helpers import cradle_eval, results

FORMAPP = Path(__file__).parents[2] / "environments/desktop/tasks/webapp/formapp.py"
APPS = {
    "mousepad": "mousepad",
    "galculator": "galculator",
    "xterm": "xterm",
    "chromium": "formapp.py",
}
"""Each real app of the suite, and what its tasks' launch commands contain."""


@pytest.fixture(scope="module")
def suite() -> list[Task]:
    return load_tasks(shipped_suite()).tasks


def test_the_suite_covers_real_apps_and_the_mocked_ones(suite: list[Task]) -> None:
    assert len(suite) >= 25
    per_env = Counter(task.environment for task in suite)
    assert per_env["mock-notepad"] >= 3 and per_env["mock-calculator"] >= 3, per_env
    launches = " ".join(
        step.launch.command for task in suite for step in task.setup if step.launch is not None
    )
    for app, marker in APPS.items():
        count = sum(
            marker in step.launch.command
            for task in suite
            for step in task.setup
            if step.launch is not None
        )
        assert count >= 3, f"{app}: {count} task(s) in {launches[:200]}"


def test_every_task_has_a_reference_of_known_skills_and_a_check(suite: list[Task]) -> None:
    infos = discover_environments()
    registries: dict[str, SkillRegistry] = {}
    for task in suite:
        assert task.check, task.id
        assert task.reference and len(task.reference) <= task.max_steps, task.id
        load_environment(task.environment, **task.env_options)  # options are valid
        if task.environment not in registries:
            folder = infos[task.environment].folder / "skills"
            registries[task.environment] = SkillRegistry.load(
                [shared_skills_dir(), *([folder] if folder.is_dir() else [])]
            )
        for step in task.reference:
            for action in step:
                parse_action(action, registries[task.environment])  # raises on a bad call


def test_setup_commands_find_the_task_folder_and_a_real_home(tmp_path: Path) -> None:
    task = Task.model_validate(
        {
            "id": "where",
            "instruction": "x",
            "environment": "mock-notepad",
            "setup": [
                {"run": 'test -f "$CRADLE_TASK_DIR/webapp/formapp.py"'},
                {"run": '"$CRADLE_PYTHON" -c "import cradle" && test -d ~/.config'},
            ],
            "check": [{"command": "true"}],
            "source": str(FORMAPP.parents[1] / "web.yaml"),
        }
    )
    assert run_setup(task, EpisodePlace.create(tmp_path)) == ""


def test_a_worker_gets_the_task_file_its_setup_needs(suite: list[Task]) -> None:
    task = next(t for t in suite if t.id == "web-login")
    sent = EvalJob.of(task, runs_dir="runs").model_dump_json()
    assert EvalJob.model_validate_json(sent).full_task().source == task.source != ""


@pytest.fixture
def formapp(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The suite's web app serving from ``tmp_path`` (its home): (address, home)."""
    proc = subprocess.Popen(
        [sys.executable, str(FORMAPP), "--home", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url_file = tmp_path / ".formapp-url"
        deadline = time.monotonic() + 20
        while not url_file.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "formapp did not start"
            time.sleep(0.05)
        yield url_file.read_text().strip(), tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _post(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_web_app_records_each_submission(formapp: tuple[str, Path]) -> None:
    url, home = formapp
    with urllib.request.urlopen(f"{url}/contact", timeout=10) as page:
        assert "<title>Contact us</title>" in page.read().decode()
    status, text = _post(f"{url}/signup", b"username=grace&password=a&confirm=b")
    assert status == 200 and "passwords do not match" in text
    status, _ = _post(f"{url}/survey", b"rating=good&used=cart&used=wishlist")
    assert status == 200
    with urllib.request.urlopen(f"{url}/search?q=red+teapot", timeout=10) as page:
        assert "Results for red teapot" in page.read().decode()
    lines = [
        json.loads(line) for line in (home / "form-submissions.jsonl").read_text().splitlines()
    ]
    assert [(x["form"], x["accepted"], x["seq"]) for x in lines] == [
        ("signup", False, 1),
        ("survey", True, 2),
        ("search", True, 3),
    ]
    survey = json.loads((home / "form-submissions/survey.json").read_text())
    assert survey["fields"] == {"rating": "good", "used": ["cart", "wishlist"]}


def test_the_web_app_refuses_oversized_and_unknown_forms(formapp: tuple[str, Path]) -> None:
    url, home = formapp
    assert _post(f"{url}/login", b"x" * (64 * 1024 + 1))[0] == 413
    assert _post(f"{url}/nowhere", b"a=1")[0] == 404
    assert not (home / "form-submissions.jsonl").exists()


@pytest.mark.desktop
@pytest.mark.slow
def test_every_reference_solution_passes(tmp_path: Path) -> None:
    out = tmp_path / "reference"
    done = cradle_eval("--reference", "--workers", "2", "--out", out, cwd=tmp_path, timeout=1800)
    failed = {k: (v["error"], v["checks"]) for k, v in results(out).items() if not v["success"]}
    assert done.returncode == 0 and not failed, (failed, done.stderr[-3000:])


@pytest.mark.desktop
@pytest.mark.slow
def test_every_checker_fails_on_the_untouched_start(tmp_path: Path) -> None:
    out = tmp_path / "noop"
    done = cradle_eval("--noop", "--workers", "2", "--out", out, cwd=tmp_path, timeout=1800)
    lines = results(out)
    assert done.returncode == 0 and len(lines) >= 25, done.stderr[-3000:]
    # Failed by its checker, not earlier: a setup that breaks would fail every task vacuously.
    judged = {k: v["error"] for k, v in lines.items() if v["success"] or v["error"]}
    assert not judged, judged
