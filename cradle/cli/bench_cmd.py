"""``cradle bench``: run the benchmarks in ``benchmarks/`` and print the figures.

The benchmark scripts live beside the package in a checkout, not inside it, so that
``import cradle`` never loads them; this command puts the checkout on ``sys.path`` first.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Annotated

import typer

from cradle.errors import UsageError
from cradle.paths import project_dir


def _load_suite() -> object:
    root = project_dir()
    if not (root / "benchmarks" / "suite.py").is_file():
        raise UsageError(f"benchmarks/ not found in {root}: run from a source checkout")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks import suite

    return suite


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout (ours, libraries', C code's) to stderr, so that
    ``--json`` leaves exactly one JSON object on stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="Smaller samples (10k memories): under two minutes.")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout, nothing else.")
    ] = False,
    results: Annotated[
        Path | None, typer.Option("--results", help="Also write the JSON report to this file.")
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", help="Also write the figures table (BENCHMARKS.md) here."),
    ] = None,
    desktop: Annotated[
        bool, typer.Option("--desktop/--no-desktop", help="Also measure under Xvfb.")
    ] = True,
) -> None:
    """Measure the cost of a step (overhead, calls, tokens, memory, skills, replay)."""
    suite = _load_suite()
    if json_out:
        with _stdout_to_stderr():
            report = suite.run(quick=quick, desktop=desktop, log=print)  # type: ignore[attr-defined]
    else:
        report = suite.run(quick=quick, desktop=desktop, log=print)  # type: ignore[attr-defined]
    command = "cradle bench" + (" --quick" if quick else "")
    report["command"] = command  # what BENCHMARKS.md names when a single benchmark updates it
    text = json.dumps(report, indent=2)
    if results is not None:
        results.write_text(text + "\n", encoding="utf-8")
    if markdown is not None:
        from benchmarks.markdown import keep_measured_elsewhere, render

        kept = keep_measured_elsewhere(markdown)
        markdown.write_text(render(report, command) + kept, encoding="utf-8")
    if json_out:
        print(json.dumps(report))
        return
    width = max(len(name) for name in report["figures"])
    for name, fig in report["figures"].items():
        met = {True: "  ok", False: "  MISSED", None: ""}[fig["met"]]
        goal = f"  (goal {fig['goal']})" if fig["goal"] else ""
        print(f"{name:<{width}}  {fig['value']} {fig['unit']}{goal}{met}")
    for name, value in report["ratios"].items():
        print(f"{name:<{width}}  {value}")
