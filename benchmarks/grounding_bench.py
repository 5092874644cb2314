"""Grounding: the share of an app's own widgets each element provider finds, and its cost.

    python -m benchmarks.grounding_bench [--quick] [--apps mousepad,tk_form] [--json FILE]

Each app (mousepad, galculator, a GTK window with icon-only buttons, Chromium on the shipped
suite's local contact form, a Tk form) runs alone on a private Xvfb inside a private D-Bus
session, its window captured as the desktop environment does (cropped to the window, shown
at most 1280 wide). Targets are every widget the app itself reports: its accessibility nodes
with an interactive role (``INTERACTIVE_ROLES``), ``showing``, with a box whose centre lies in
the window (one per box); a Tk window has no tree, so its targets are the entry and buttons the
form writes to its state file. A provider *finds* a target when one of its elements' boxes
(screen pixels) contains the target's centre, and *hits* it when one of its elements' centres
(where a click on that element lands) lies inside the target's box. Providers: ``a11y``
(``AccessibilityProvider``, a fresh walk each time), ``ocr`` (tesseract lines as elements),
``contours`` (edge boxes on the shown image), ``merged`` (``VisionPerceiver`` with all three:
the elements the marks and the prompt get, cut to the element budget). Milliseconds per
observation are medians over the repeats; ``merged`` is the whole perception (tree + OCR +
contours + merge + marks).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from benchmarks.grounding_apps import APPS, App, Widget, app_named, running
from benchmarks.perception_bench import timed
from benchmarks.xvfb import exported
from cradle.elements.accessibility import AccessibilityProvider, capture_area
from cradle.elements.base import INTERACTIVE_ROLES, AccessibleNode, Box, TreeReader, View
from cradle.errors import CradleError, EnvironmentFailure
from cradle.screen.mapping import CoordinateMap
from cradle.types import Element

PROVIDERS = ("a11y", "ocr", "contours", "merged")
SHOWN_SIDE = 1280
READY_SECONDS = 30.0
MAX_LISTED = 30
"""Targets listed per app in the details (names are the app's, bounded)."""


def _default_reader() -> TreeReader:
    from cradle.elements.platform import default_reader

    reader = default_reader()
    if reader is None:
        raise EnvironmentFailure("no accessibility reader for this platform")
    return reader


def tree_targets(nodes: list[AccessibleNode], area: Box) -> list[Widget]:
    """Interactive, showing nodes with a box centred inside ``area``, one per box."""
    seen: set[Box] = set()
    out: list[Widget] = []
    for node in nodes:
        box = node.box
        if (
            node.role not in INTERACTIVE_ROLES
            or "showing" not in node.states
            or box is None
            or box[2] - box[0] < 2
            or box[3] - box[1] < 2
            or box in seen
        ):
            continue
        target = Widget(node.role, node.name, box)
        cx, cy = target.centre
        if area[0] <= cx < area[2] and area[1] <= cy < area[3]:
            seen.add(box)
            out.append(target)
    return out


def _inside(point: tuple[float, float], box: Box) -> bool:
    return box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def found(target: Widget, elements: list[Element]) -> bool:
    """Some element's box (screen pixels) contains the target's centre."""
    return any(e.box is not None and _inside(target.centre, e.box) for e in elements)


def hit(target: Widget, elements: list[Element]) -> bool:
    """Some element's centre lies inside the target's box (a click on it lands there)."""
    return any(
        e.box is not None
        and _inside(((e.box[0] + e.box[2]) / 2, (e.box[1] + e.box[3]) / 2), target.box)
        for e in elements
    )


def observe(
    frame: Image.Image, view: View, provider: AccessibilityProvider, repeat: int
) -> dict[str, tuple[float, list[Element]]]:
    """Each provider's elements on one frame and its median milliseconds over ``repeat``."""
    from cradle.vision.elements import detect_boxes
    from cradle.vision.perceiver import VisionPerceiver, contour_elements, text_elements

    perceiver = VisionPerceiver(accessibility=provider)
    scale = (view.shown.width / frame.width, view.shown.height / frame.height)

    def tree() -> list[Element]:
        provider.forget()
        return provider.elements(view)

    def merged() -> list[Element]:
        provider.forget()
        return perceiver.perceive(frame, view.shown, view.mapping).elements

    out: dict[str, tuple[float, list[Element]]] = {"a11y": timed(tree, repeat)}
    ocr_ms, text = timed(lambda: perceiver.engine.read(frame, scale), repeat)
    out["ocr"] = (ocr_ms, text_elements(text.lines, view))
    contour_ms, boxes = timed(lambda: detect_boxes(view.shown, perceiver.detect), repeat)
    out["contours"] = (contour_ms, contour_elements(boxes, text.lines, view))
    out["merged"] = timed(merged, repeat)
    return out


def score(
    targets: list[Widget], observed: dict[str, tuple[float, list[Element]]]
) -> dict[str, Any]:
    """Shares found and hit per provider, and which targets each provider missed."""
    total = len(targets)
    providers: dict[str, Any] = {}
    for name, (ms, elements) in observed.items():
        got = [found(t, elements) for t in targets]
        hits = [hit(t, elements) for t in targets]
        providers[name] = {
            "found": sum(got),
            "found_pct": _pct(sum(got), total),
            "hit": sum(hits),
            "hit_pct": _pct(sum(hits), total),
            "elements": len(elements),
            "ms": ms,
        }
    rows = [
        {
            "role": t.role,
            "name": t.name[:60],
            "box": list(t.box),
            "found_by": [n for n, (_, els) in observed.items() if found(t, els)],
        }
        for t in targets[:MAX_LISTED]
    ]
    return {"targets": total, "providers": providers, "target_list": rows}


def _pct(part: int, total: int) -> float:
    return round(100 * part / total, 1) if total else 0.0


def _view(screen: Any) -> tuple[Image.Image, View]:
    from cradle.llm.images import downscale
    from cradle.vision.perceiver import frame_digest

    frame = screen.capture()
    shown = downscale(frame, SHOWN_SIDE)
    return frame, View(
        frame, shown, CoordinateMap(shown.size, screen.geometry), frame_digest(frame)
    )


def _ready_targets(app: App, home: Path, screen: Any, reader: TreeReader) -> list[Widget]:
    """The app's targets once they stopped changing (apps fill their tree after mapping)."""
    from cradle.elements.base import WalkLimits

    deadline = time.monotonic() + READY_SECONDS
    last: list[Widget] | None = None
    while time.monotonic() < deadline:
        _, view = _view(screen)
        if app.widgets is not None:
            try:
                now = app.widgets(home)
            except (OSError, ValueError, KeyError):
                now = []
        else:
            now = tree_targets(
                reader.read(capture_area(view.mapping), WalkLimits()).nodes,
                capture_area(view.mapping),
            )
        if now and last == now:
            return now
        last = now
        time.sleep(0.5)
    raise EnvironmentFailure(
        f"{app.name} reported no stable set of widgets within "
        f"{READY_SECONDS:g} s (is its accessibility tree exposed?)"
    )


def bench_app(
    app: App, repeat: int = 3, reader_factory: Callable[[], TreeReader] = _default_reader
) -> dict[str, Any]:
    """Start ``app`` in its own D-Bus session (display already exported) and score it."""
    from cradle.screen.dbus_session import private_session
    from cradle.screen.desktop import DesktopScreen

    with (
        tempfile.TemporaryDirectory(prefix=f"cradle-grounding-{app.name}-") as tmp,
        private_session() as bus,
        exported(bus),
        running(app, Path(tmp)) as window,
    ):
        provider = AccessibilityProvider(reader_factory())
        screen = DesktopScreen(window=window)
        try:
            targets = _ready_targets(app, Path(tmp), screen, provider.reader)
            time.sleep(0.3)
            frame, view = _view(screen)
            result = score(targets, observe(frame, view, provider, repeat))
            result["window_size"] = list(frame.size)
            result["tree_nodes"] = len(provider.last.nodes)
            result["tree_note"] = provider.unavailable or provider.last.truncated
            return result
        finally:
            screen.close()
            provider.close()


def run(
    quick: bool = False,
    apps: list[str] | None = None,
    log: Callable[[str], Any] = print,
    reader_factory: Callable[[], TreeReader] = _default_reader,
) -> dict[str, Any]:
    """Score every app (or those named) on one private display; ``EnvironmentFailure`` of one
    line when Xvfb, dbus-daemon, tesseract or an app is missing."""
    from benchmarks.xvfb import display
    from cradle.vision.ocr import tesseract_binary

    chosen = [app_named(name) for name in apps] if apps else list(APPS)
    for app in chosen:
        app.check()
    tesseract_binary()
    repeat = 1 if quick else 3
    report: dict[str, Any] = {
        "repeat": repeat,
        "apps": {},
        "command": "python -m benchmarks.grounding_bench" + (" --quick" if quick else ""),
    }
    with display((1920, 1080)) as env, exported(env):
        for app in chosen:
            log(f"  grounding: {app.name} ...")
            report["apps"][app.name] = bench_app(app, repeat, reader_factory)
    return report


def table(report: dict[str, Any]) -> list[str]:
    """Markdown rows: per app, targets, % found (hit) per provider, ms per provider."""
    head = (
        "| app | targets | "
        + " | ".join(f"{p} found (hit)" for p in PROVIDERS)
        + " | "
        + " | ".join(f"{p} ms" for p in PROVIDERS)
        + " | merged > OCR |"
    )
    lines = [head, "| --- | ---: |" + " ---: |" * (2 * len(PROVIDERS)) + " --- |"]
    for name, row in report["apps"].items():
        p = row["providers"]
        cells = [f"{p[k]['found_pct']:g}% ({p[k]['hit_pct']:g}%)" for k in PROVIDERS]
        cells += [f"{p[k]['ms']:g}" for k in PROVIDERS]
        better = p["merged"]["found"] > p["ocr"]["found"]
        lines.append(
            f"| {name} | {row['targets']} | "
            + " | ".join(cells)
            + f" | {'yes' if better else '**no**'} |"
        )
    return lines


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """One ``cradle bench`` figure per app: the merged share found, met when it beats OCR."""
    from benchmarks.suite import figure

    out: dict[str, Any] = {}
    for name, row in report["apps"].items():
        p, total = row["providers"], row["targets"]
        shares = ", ".join(f"{k} {p[k]['found_pct']:g}%" for k in PROVIDERS)
        costs = ", ".join(f"{k} {p[k]['ms']:g}" for k in PROVIDERS)
        source = (
            "targets are the form's entry and buttons from its state file (Tk exposes no "
            f"tree: a11y gave {p['a11y']['elements']} elements)"
            if name == "tk_form"
            else "targets are the interactive widgets its accessibility tree reports"
        )
        out[f"grounding_found_pct_{name}"] = figure(
            p["merged"]["found_pct"],
            f"% of {total}",
            f"{name}: {source}; found by {shares} "
            f"(an element's box contains the widget's centre); ms per observation {costs} "
            "(benchmarks/grounding_bench.py)",
            "> OCR alone",
            p["merged"]["found"] > p["ocr"]["found"],
        )
    return out


def write_results(report: dict[str, Any], results: Path, markdown: Path | None) -> None:
    """Put this run's figures and details into an existing ``cradle bench`` report (and
    re-render BENCHMARKS.md from it), leaving every other figure as it was measured."""
    from benchmarks.markdown import update_results

    update_results(
        results, markdown, figures(report), "grounding", report, drop_prefix="grounding_"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one observation per provider")
    parser.add_argument("--apps", default="", help="comma-separated app names (default all)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the report here")
    parser.add_argument(
        "--results",
        metavar="FILE",
        type=Path,
        help="put the figures into this cradle bench report (results.json)",
    )
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        type=Path,
        help="with --results: re-render BENCHMARKS.md from it",
    )
    args = parser.parse_args(argv)
    try:
        report = run(args.quick, [a for a in args.apps.split(",") if a] or None)
        if args.results:
            write_results(report, args.results, args.markdown)
    except CradleError as exc:
        print(f"grounding_bench: error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(table(report)))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
