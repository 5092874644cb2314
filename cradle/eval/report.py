"""``report.html`` of an eval: the summary and a row per task, linking each run's own report.

Self-contained like a run's report (inline CSS, no script, a Content-Security-Policy that
loads nothing); every value comes from task files, checkers or models, so all of it is
escaped, and links are relative paths inside the output folder, percent-encoded.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cradle.eval.jobs import EvalResult

REPORT_FILE = "report.html"
SHOWN_CHARS = 400

_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:4px 6px;
vertical-align:top;text-align:left}th{background:#f3f3f3}.pass{color:#107010;font-weight:bold}
.fail{color:#b00020;font-weight:bold}.muted{color:#777}td.num{text-align:right}
ul{margin:0;padding-left:1.1em}
"""


def _e(value: Any, limit: int = SHOWN_CHARS) -> str:
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text):,} chars)"
    return html.escape(text, quote=True)


def _link(out_dir: Path, result: EvalResult) -> str:
    """A relative link to the run's own report when it exists inside ``out_dir``."""
    if not result.run_dir:
        return '<span class="muted">no run</span>'
    report = Path(result.run_dir) / REPORT_FILE
    try:
        relative = os.path.relpath(report.resolve(), out_dir.resolve())
    except ValueError:  # another drive (Windows)
        relative = ""
    if not report.is_file() or not relative or relative.startswith(".."):
        return f'<span class="muted">{_e(Path(result.run_dir).name)}</span>'
    href = quote(Path(relative).as_posix(), safe="/")
    return f'<a href="{_e(href)}">{_e(Path(result.run_dir).name)}</a>'


def _row(out_dir: Path, task_id: str, environment: str, result: EvalResult | None) -> str:
    if result is None:
        cells = [_e(task_id), _e(environment), '<span class="muted">not run</span>', *[""] * 8]
    else:
        verdict = (
            '<span class="pass">pass</span>' if result.success else '<span class="fail">fail</span>'
        )
        checks = "".join(
            f"<li>{'✓' if c.passed else '✗'} {_e(c.kind)}: {_e(c.detail)}</li>"
            for c in result.checks
        )
        cells = [
            _e(task_id),
            _e(environment),
            verdict,
            f"<ul>{checks}</ul>" if checks else "",
            _e(result.error or ""),
            str(result.steps),
            str(result.model_calls),
            f"{result.tokens:,}",
            f"{result.cost:.4f}",
            f"{result.seconds:.1f}",
        ]
        node = f'<br><span class="muted">node {_e(result.node[:12])}</span>' if result.node else ""
        cells.append(_link(out_dir, result) + node)
    numeric = {5, 6, 7, 8, 9}
    return (
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if index in numeric else f"<td>{cell}</td>"
            for index, cell in enumerate(cells)
        )
        + "</tr>"
    )


def render(
    out_dir: Path,
    suite: list[tuple[str, str]],
    results: dict[str, EvalResult],
    summary: dict[str, Any],
) -> str:
    """The page for ``suite`` (``(id, environment)`` in order) and its ``results``."""
    rows = "\n".join(_row(out_dir, tid, env, results.get(tid)) for tid, env in suite)
    envs = "".join(
        f"<li>{_e(name)}: {row['passed']}/{row['tasks']} ({row['success_rate']:.0%})</li>"
        for name, row in summary.get("environments", {}).items()
    )
    skipped = "".join(
        f"<li>{_e(s['where'])}: {_e(s['reason'])}</li>" for s in summary.get("skipped", [])
    )
    totals = summary.get("totals", {})
    nodes = summary.get("nodes")
    where = (
        f" on {len(nodes)} node(s) of the Ray cluster {_e(summary.get('ray', ''))}"
        if isinstance(nodes, dict)
        else ""
    )
    head = [
        "task",
        "environment",
        "result",
        "checks",
        "error",
        "steps",
        "model calls",
        "tokens",
        "cost $",
        "seconds",
        "run",
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>cradle eval: {summary.get("passed", 0)}/{summary.get("tasks", 0)} passed</title>
<style>{_STYLE}</style></head><body>
<h1>cradle eval</h1>
<p><b>{summary.get("passed", 0)}</b> of <b>{summary.get("tasks", 0)}</b> tasks passed
({summary.get("success_rate", 0):.1%}); mode {_e(summary.get("mode", ""))}, model
{_e(summary.get("model", ""))}, {_e(summary.get("workers", ""))} worker(s){where},
{summary.get("wall_seconds", 0):.1f} s wall time. Totals: {totals.get("steps", 0)} steps,
{totals.get("model_calls", 0)} model calls, {totals.get("tokens", 0):,} tokens,
${totals.get("cost", 0):.4f}.</p>
<ul>{envs}</ul>
{f"<p>Skipped (not translatable):</p><ul>{skipped}</ul>" if skipped else ""}
<table><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def write_report(
    out_dir: Path,
    suite: list[tuple[str, str]],
    results: dict[str, EvalResult],
    summary: dict[str, Any],
) -> Path:
    from cradle.eval.results import EvalStorageError

    path = out_dir / REPORT_FILE
    try:
        path.write_text(render(out_dir, suite, results, summary), encoding="utf-8")
    except OSError as exc:
        raise EvalStorageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
