"""results.jsonl survives a crash mid-line; summary and report say what the lines say."""

from __future__ import annotations

import json
from pathlib import Path

from cradle.eval.jobs import EvalResult
from cradle.eval.report import render
from cradle.eval.results import append_result, read_results, summarize
from cradle.types import CheckResult
from tests.eval.helpers import RESULT_KEYS, SUMMARY_KEYS


def _result(tid: str, success: bool, env: str = "mock-notepad", **more: object) -> EvalResult:
    return EvalResult(
        id=tid,
        environment=env,
        success=success,
        steps=2,
        model_calls=2,
        tokens=100,
        cost=0.01,
        seconds=1.5,
        **more,
    )


def test_a_cut_off_last_line_is_dropped_and_cut_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    append_result(path, _result("a", True))
    whole = path.read_bytes()
    path.write_bytes(whole + whole[:30])  # the harness died while writing the second line
    found, warnings = read_results(path)
    assert list(found) == ["a"] and warnings == []
    assert path.read_bytes() == whole
    append_result(path, _result("b", False))
    assert list(read_results(path)[0]) == ["a", "b"]


def test_a_damaged_line_in_the_middle_is_reported_and_its_task_runs_again(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text('{"id": "x"}\n' + _result("a", True).model_dump_json() + "\n")
    found, warnings = read_results(path)
    assert list(found) == ["a"]
    assert len(warnings) == 1 and "results.jsonl:1" in warnings[0]


def test_summary_counts_rates_per_environment_and_unrun_tasks() -> None:
    suite = [("a", "mock-notepad"), ("b", "mock-notepad"), ("c", "desktop"), ("d", "desktop")]
    results = {
        "a": _result("a", True),
        "b": _result("b", False),
        "c": _result("c", True, env="desktop"),
    }
    data = summarize(suite, results, skipped=[("x.json (t9)", "func 'foo' is not supported")])
    assert SUMMARY_KEYS <= set(data)
    assert (data["tasks"], data["ran"], data["passed"], data["success_rate"]) == (4, 3, 2, 0.5)
    assert data["environments"]["desktop"] == {"tasks": 2, "passed": 1, "success_rate": 0.5}
    assert data["not_run"] == ["d"]
    assert data["totals"] == {
        "steps": 6,
        "model_calls": 6,
        "tokens": 300,
        "cost": 0.03,
        "seconds": 4.5,
    }
    assert data["skipped"] == [{"where": "x.json (t9)", "reason": "func 'foo' is not supported"}]


def test_result_lines_have_exactly_the_documented_keys() -> None:
    line = EvalResult(id="a", success=True, skills=["proposed source"]).model_dump_json()
    assert set(json.loads(line)) == RESULT_KEYS  # the skills go to the driver, not the file
    assert set(EvalResult.model_fields) == RESULT_KEYS | {"skills"}


def test_report_escapes_what_checkers_and_models_wrote(tmp_path: Path) -> None:
    evil = '<script>alert(1)</script>"><img src=x>'
    result = _result(
        "a",
        False,
        error=evil,
        checks=[CheckResult(kind="command", passed=False, detail=evil)],
        run_dir=str(tmp_path / "runs" / "a" / "run 1"),
    )
    (tmp_path / "runs" / "a" / "run 1").mkdir(parents=True)
    (tmp_path / "runs" / "a" / "run 1" / "report.html").write_text("x")
    suite = [("a", "mock-notepad"), ("b", "mock-notepad")]
    page = render(tmp_path, suite, {"a": result}, summarize(suite, {"a": result}))
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    assert 'href="runs/a/run%201/report.html"' in page
    assert "not run" in page  # task b
