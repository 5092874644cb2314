"""``report.html``: one self-contained page per run, to read what an agent saw, thought and did.

One file, so it can be mailed or attached to an issue: images are inlined as downscaled JPEG
data URLs, CSS is inline, there is no script, no font and no link to anything outside the file
(a Content-Security-Policy in the page forbids loading anything but inline images). Everything
the model or the screen produced is untrusted text and goes through Jinja2's autoescape.

Click markers: ``ActionOutcome.clicks`` are in model-image pixels, so each screenshot gets an
SVG overlay whose viewBox is the model-image size, stretched over the displayed picture; the
markers land right whatever the screenshot's size or the display scale.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from cradle.errors import TrajectoryError
from cradle.trajectory.loader import LoadedRun
from cradle.types import StepRecord

REPORT_FILE = "report.html"
TEMPLATE = "report.html.j2"

_MODULE_TITLES = {
    "information_gathering": "Information gathering",
    "self_reflection": "Self-reflection",
    "task_inference": "Task inference",
    "skill_curation": "Skill curation",
    "action_planning": "Action planning",
}


@dataclass(frozen=True)
class ReportOptions:
    """Size of the inlined images and the optional prices (per 1M tokens) for the cost line."""

    max_image_width: int = 960
    jpeg_quality: int = 70
    price_in: float | None = None
    price_out: float | None = None


def image_data_url(path: Path, max_width: int, quality: int) -> tuple[str, int, int]:
    """A JPEG data URL of the image at ``path``, at most ``max_width`` wide, with its size."""
    with Image.open(path) as image:
        picture = image.convert("RGB")
    if picture.width > max_width:
        height = max(1, round(picture.height * max_width / picture.width))
        picture = picture.resize((max_width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality, optimize=True)
    payload = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/jpeg;base64,{payload}", picture.width, picture.height


def _fields(output: Any) -> list[tuple[str, str]]:
    """A module output as (field, text) pairs; lists and nested objects become lines."""
    rows: list[tuple[str, str]] = []
    for name, value in output.model_dump(mode="json").items():
        if isinstance(value, list):
            if value and isinstance(value[0], dict):
                text = "\n".join(", ".join(f"{k}={v}" for k, v in item.items()) for item in value)
            else:
                text = "\n".join(str(v) for v in value)
            text = text or "(none)"
        else:
            text = str(value)
        rows.append((name.replace("_", " "), text))
    return rows


def _skill_view(verdict: dict[str, Any]) -> dict[str, Any]:
    """A proposed skill's verdict as shown. Verdicts are plain dicts whose keys differ between
    accepted and rejected proposals (and between versions): read each one as optional."""
    accepted = bool(verdict.get("accepted"))
    names = ", ".join(str(name) for name in verdict.get("names") or [])
    reason = str(verdict.get("reason") or "")
    notes = [str(verdict[key]) for key in ("file", "file_error") if verdict.get(key)]
    return {
        "verdict": "accepted" if accepted else "rejected",
        "title": (names if accepted else reason) or names or reason or "(no name or reason)",
        "notes": notes,
        "error": str(verdict.get("file_error") or ""),
        "source": str(verdict.get("source") or ""),
    }


def _grounded(result: Any) -> dict[str, Any] | None:
    """Where a grounding model put a described target (``click_target`` and its kin return
    ``{"target": ..., "point": [x, y], "reply": ..., "latency_ms": ...}``), as drawn."""
    if not isinstance(result, dict) or not isinstance(result.get("target"), str):
        return None
    point = result.get("point")
    if (
        not isinstance(point, list)
        or len(point) != 2
        or not all(isinstance(v, int | float) for v in point)
    ):
        return None
    return {
        "x": point[0],
        "y": point[1],
        "label": result["target"][:80],
        "reply": str(result.get("reply", ""))[:300],
        "latency_ms": result.get("latency_ms", 0),
    }


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "–"
    seconds = (end - start).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s"


def _cost(run: LoadedRun, options: ReportOptions) -> str:
    totals = run.totals()
    if options.price_in is None and options.price_out is None:
        recorded = totals.cost_usd or run.info.totals.cost_usd
        if recorded:
            return f"{recorded:.4f} (recorded during the run)"
        return "unknown (give --price-in/--price-out per 1M tokens)"
    cost = (
        totals.input_tokens * (options.price_in or 0.0)
        + totals.output_tokens * (options.price_out or 0.0)
    ) / 1_000_000
    return f"{cost:.4f} (at {options.price_in or 0:g} in / {options.price_out or 0:g} out per 1M)"


def _step_view(run: LoadedRun, record: StepRecord, options: ReportOptions) -> dict[str, Any]:
    view: dict[str, Any] = {
        "record": record,
        "duration": _duration(record.started_at, record.ended_at),
        "screenshot": "",
        "marks": "",
        "clicks": [],
    }
    shot = run.screenshot(record)
    if shot is not None:
        try:
            view["screenshot"], view["width"], view["height"] = image_data_url(
                shot, options.max_image_width, options.jpeg_quality
            )
        except OSError:
            run.warnings.append(f"step {record.step}: {shot} is not a readable image")
    marks = run.marks_image(record)
    if marks is not None:
        try:
            view["marks"] = image_data_url(marks, options.max_image_width, options.jpeg_quality)[0]
        except OSError:
            run.warnings.append(f"step {record.step}: {marks} is not a readable image")
    number = 0
    for outcome in record.actions:
        for x, y in outcome.clicks:
            number += 1
            view["clicks"].append({"x": x, "y": y, "n": number})
    view["targets"] = [
        target for outcome in record.actions if (target := _grounded(outcome.result)) is not None
    ]
    width, height = record.observation.image_size
    view["marker"] = max(4, round(max(width, height) / 90))
    view["skills"] = [_skill_view(verdict) for verdict in record.new_skills]
    view["modules"] = [
        {"title": title, "fields": _fields(getattr(record, name))}
        for name, title in _MODULE_TITLES.items()
        if getattr(record, name) is not None
    ]
    return view


def render_report(run: LoadedRun, options: ReportOptions | None = None) -> str:
    """The report page of ``run`` as HTML text."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    options = options or ReportOptions()
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    steps = [_step_view(run, record, options) for record in run.steps]
    info = run.info
    ended = info.ended_at or (run.steps[-1].ended_at if run.steps else None)
    return env.get_template(TEMPLATE).render(
        info=info,
        totals=run.totals(),
        steps=steps,
        warnings=run.warnings,
        started=info.started_at.strftime("%Y-%m-%d %H:%M:%S %Z"),
        ended=ended.strftime("%Y-%m-%d %H:%M:%S %Z") if ended else "still running",
        duration=_duration(info.started_at, ended),
        cost=_cost(run, options),
        versions=info.versions,
    )


def write_report(
    run: LoadedRun, out: Path | None = None, options: ReportOptions | None = None
) -> Path:
    """Write the report (``RUN_DIR/report.html`` by default) and return its path."""
    path = out or run.folder / REPORT_FILE
    html = render_report(run, options)
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise TrajectoryError(f"cannot write {path}: {exc.strerror}") from None
    return path
