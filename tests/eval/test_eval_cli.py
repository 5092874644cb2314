"""`cradle eval` end to end on a small mocked suite: reference, no-op, workers, resume, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.eval.helpers import (
    RESULT_KEYS,
    SUITE,
    SUMMARY_KEYS,
    cradle_eval,
    results,
    summary,
    write_suite,
)

IDS = {task["id"] for task in SUITE}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_suite(tmp_path_factory.mktemp("suite") / "tasks")


@pytest.fixture(scope="module")
def reference_1(suite: Path) -> tuple[Path, str]:
    out = suite.parent / "ref1"
    # A relative --out, as users type it: workers run elsewhere and must still write into it.
    done = cradle_eval(suite, "--reference", "--out", "ref1", cwd=suite.parent)
    assert done.returncode == 0, done.stderr
    return out, done.stderr


def test_reference_passes_every_task(reference_1: tuple[Path, str]) -> None:
    """Each task's reference steps, replayed through the loop, satisfy its checker."""
    out, stderr = reference_1
    lines = results(out)
    assert set(lines) == IDS
    for line in lines.values():
        assert set(line) == RESULT_KEYS
        assert line["success"] is True and line["error"] is None, line
        assert line["checks"] and all(check["passed"] for check in line["checks"])
        assert line["steps"] >= 1 and line["model_calls"] == line["steps"]
        assert Path(line["run_dir"]).parent == out / "runs" / line["id"]
    data = summary(out)
    assert SUMMARY_KEYS <= set(data)
    assert (data["tasks"], data["passed"], data["success_rate"]) == (3, 3, 1.0)
    assert data["environments"]["mock-notepad"] == {"tasks": 2, "passed": 2, "success_rate": 1.0}
    assert data["totals"]["steps"] == sum(line["steps"] for line in lines.values())
    assert "3/3 passed" in stderr
    assert stderr.count("PASS ") == 3  # one line per task when stderr is not a terminal


def test_noop_passes_no_task_and_exits_0(suite: Path) -> None:
    """--noop declares done at once: every checker must fail, and that is what exit 0 means."""
    out = suite.parent / "noop"
    done = cradle_eval(suite, "--noop", "--out", out, cwd=suite.parent)
    assert done.returncode == 0, done.stderr
    lines = results(out)
    assert set(lines) == IDS
    assert not any(line["success"] for line in lines.values())
    assert all(line["steps"] == 1 and line["error"] is None for line in lines.values())
    assert summary(out)["passed"] == 0 and summary(out)["success_rate"] == 0.0


def test_two_workers_give_the_same_results(suite: Path, reference_1: tuple[Path, str]) -> None:
    out = suite.parent / "ref2"
    done = cradle_eval(suite, "--reference", "--workers", "2", "--out", out, cwd=suite.parent)
    assert done.returncode == 0, done.stderr

    def essence(folder: Path) -> dict[str, tuple]:
        return {
            tid: (line["success"], line["steps"], line["model_calls"], json.dumps(line["checks"]))
            for tid, line in results(folder).items()
        }

    assert essence(out) == essence(reference_1[0])
    assert summary(out)["workers"] == 2


def test_report_links_each_run_report(reference_1: tuple[Path, str]) -> None:
    out, _ = reference_1
    page = (out / "report.html").read_text()
    for line in results(out).values():
        run_report = Path(line["run_dir"]) / "report.html"
        assert run_report.is_file()
        assert f'href="runs/{line["id"]}/{Path(line["run_dir"]).name}/report.html"' in page
    assert "<script" not in page and "Content-Security-Policy" in page


def test_resume_runs_only_the_tasks_not_recorded(
    suite: Path, reference_1: tuple[Path, str], tmp_path: Path
) -> None:
    """A cut-off last line is dropped: that task and the unrecorded ones run again."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(reference_1[0], out)
    first, second, _ = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text(first + "\n" + second[:40])
    done = cradle_eval(suite, "--reference", "--resume", "--out", out, cwd=suite.parent)
    assert done.returncode == 0, done.stderr
    assert "resuming: 1 task(s)" in done.stderr
    lines = results(out)
    assert set(lines) == IDS and all(line["success"] for line in lines.values())
    first_id = json.loads(first)["id"]
    runs = {tid: len(list((out / "runs" / tid).iterdir())) for tid in IDS}
    assert runs.pop(first_id) == 1 and set(runs.values()) == {2}


def test_existing_results_need_resume(reference_1: tuple[Path, str], suite: Path) -> None:
    done = cradle_eval(suite, "--noop", "--out", reference_1[0], cwd=suite.parent)
    assert done.returncode == 2
    assert "already holds results: add --resume" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_usage_is_exit_2(suite: Path, tmp_path: Path) -> None:
    both = cradle_eval(suite, "--reference", "--noop", "--out", tmp_path / "o", cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr
    missing = cradle_eval(tmp_path / "nope", "--noop", "--out", tmp_path / "o", cwd=tmp_path)
    assert missing.returncode == 2 and "no such task file or folder" in missing.stderr
    no_key = cradle_eval(suite, "--out", tmp_path / "o", cwd=tmp_path, env={"OPENAI_API_KEY": ""})
    assert no_key.returncode == 2 and "no API key" in no_key.stderr


def test_noop_fails_when_a_task_never_reached_its_checker(tmp_path: Path) -> None:
    # A setup that fails proves nothing about the checker: --noop must not call that a success.
    (tmp_path / "broken.yaml").write_text(
        "id: broken-setup\ninstruction: x\nenvironment: mock-notepad\n"
        "setup: [{run: 'exit 3'}]\ncheck: [{state: {text: 'never'}}]\n"
    )
    done = cradle_eval(tmp_path / "broken.yaml", "--noop", "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert results(tmp_path / "out")["broken-setup"]["error"]
