"""report.html: one self-contained, escaped file that renders offline in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from PIL import Image

from cradle.trajectory.loader import load_run
from cradle.trajectory.report import ReportOptions, render_report, write_report
from tests.trajectory.helpers import cradle_cli, demo_run

HOSTILE = '<script>alert("x")</script><img src="https://evil.example/x.png">'


def _hostile_run(tmp_path: Path):
    run = demo_run(tmp_path)
    record = run.steps[1]
    record.information_gathering.screen_description = HOSTILE
    record.model_calls[0].reply = HOSTILE
    record.actions[0].error = HOSTILE
    return run


def test_report_has_every_step_and_inlines_images(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    path = write_report(run)
    html = path.read_text()
    assert path == run.folder / "report.html"
    for n in range(1, 6):
        assert f'id="step-{n}"' in html
    assert html.count("data:image/jpeg;base64,") == 5
    assert 'class="click"' in html  # markers where clicks landed
    assert "Write a short note and save it as hello.txt" in html
    assert path.stat().st_size < 600_000


def test_nothing_is_loaded_from_outside(tmp_path: Path) -> None:
    html = render_report(_hostile_run(tmp_path))
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert "&lt;script&gt;" in html  # model text is shown, escaped


def test_cost_line_uses_the_prices(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    for record in run.steps:
        for call in record.model_calls:
            call.input_tokens, call.output_tokens = 1000, 100
    html = render_report(run, ReportOptions(price_in=2.5, price_out=10))
    calls = sum(len(r.model_calls) for r in run.steps)
    assert f"{calls * (1000 * 2.5 + 100 * 10) / 1e6:.4f}" in html


def test_missing_screenshot_still_renders(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    (run.folder / "screenshots" / "step-0002.png").unlink()
    result = cradle_cli("report", str(run.folder), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html = (run.folder / "report.html").read_text()
    assert "screenshot missing: screenshots/step-0002.png" in html
    assert "step 2: missing" in result.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_renders_offline_in_headless_chromium(tmp_path: Path) -> None:
    assert CHROMIUM, "chromium is not installed: tests/run.sh installs Debian's chromium"
    path = write_report(_hostile_run(tmp_path))
    base = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1280,2000",
    ]
    dom = subprocess.run(
        [*base, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=90
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('class="step"') == 5
    assert "<script>alert" not in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run(
        [*base, f"--screenshot={shot}", path.as_uri()], capture_output=True, timeout=90, check=True
    )
    with Image.open(shot) as image:
        colors = image.convert("RGB").resize((64, 100)).getcolors(64 * 100)
    assert colors is not None and len(colors) > 20  # a rendered page, not a blank one


def test_loaded_report_round_trip(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    write_report(run)
    assert load_run(run.folder).steps == run.steps  # writing a report leaves the run alone


def test_elements_are_listed_with_their_source_and_escaped(tmp_path: Path) -> None:
    from cradle.types import Element

    run = demo_run(tmp_path)
    run.steps[0].observation.elements = [
        Element(
            label="1", role="push button", name=HOSTILE, x=5, y=6, source="a11y", states=["focused"]
        ),
        Element(label="2", role="text", name="Untitled", x=50, y=60, source="ocr"),
    ]
    html = render_report(run, ReportOptions())
    assert "elements seen (1 a11y, 1 ocr)" in html
    assert "<td>push button</td>" in html and "<td>focused</td>" in html
    assert '<script>alert("x")' not in html
