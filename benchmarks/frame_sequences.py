"""Recorded frame sequences, read by incremental and by full perception: time and equality.

    python -m benchmarks.frame_sequences [--desktop]
    python -m benchmarks.frame_sequences --results benchmarks/results.json --markdown BENCHMARKS.md

Sequences: mock-notepad at 1920x1080 (three words typed, the File menu opened and closed,
the Save As dialog opened, a name typed, closed) and, with ``--desktop``, the real desktop
under Xvfb at 1920x1080 (mousepad: words typed, the File menu opened, xcalc started as a new
window; xterm: a command typed). Each sequence goes through two fresh ``VisionPerceiver``s
(marks, OCR, no accessibility tree: the tree is not read from pixels), one incremental and
one with ``incremental=False`` (every frame read whole), the OCR model loaded beforehand,
interleaved frame by frame and repeated (the machine is shared). ``compare`` says whether the
two gave identical text, words, boxes, element lists and marked images on every frame, and
the ratio of their total perception times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cradle.errors import EnvironmentFailure
from cradle.llm.images import downscale
from cradle.vision.perceiver import VisionPerceiver, VisionPerception

Frames = list[tuple[str, Image.Image]]
SHOWN_SIDE = 1280


def mock_sequence(size: tuple[int, int] = (1920, 1080)) -> Frames:
    """mock-notepad: typing, a menu opening and closing, a dialog opening and closing."""
    from environments.mock_notepad.app import NotepadApp

    app = NotepadApp(size, text="Dear team,\nthe report is attached.\n")
    screen = app.screen
    frames: Frames = [("start", screen.capture())]

    def then(name: str, act: Callable[[], None]) -> None:
        act()
        frames.append((name, screen.capture()))

    for word in ("Hello ", "world ", "again "):
        then(f"typed {word.strip()}", lambda w=word: screen.type_text(w))
    menu = next(w for w in screen.widgets() if w.label == "File")
    then("menu open", lambda: screen.click(*menu.center))
    then("menu closed", lambda: screen.press("escape"))
    then("dialog open", lambda: screen.hotkey("ctrl", "shift", "s"))
    then("typed name", lambda: screen.type_text("notes.txt"))
    then("dialog closed", lambda: screen.press("escape"))
    return frames


def _settled(grab: Callable[[], Image.Image], timeout: float = 5.0) -> Image.Image:
    """A frame once two grabs 0.15 s apart are equal (the app finished drawing)."""
    last = grab()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.15)
        frame = grab()
        if frame.tobytes() == last.tobytes():
            return frame
        last = frame
    return last


@contextmanager
def _app(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    from cradle.processes import stop_process

    proc = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        stop_process(proc)


def _xdotool(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["xdotool", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return done.stdout.strip()


def _focus(env: dict[str, str], *search: str, timeout: float = 30.0) -> None:
    """Wait for the window ``search`` finds (xdotool search arguments), then focus it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _xdotool(env, "search", "--onlyvisible", *search).split()
        if found:  # the pointer inside too: without a window manager focus may follow it
            _xdotool(env, "mousemove", "--window", found[0], "200", "120")
            _xdotool(env, "windowfocus", "--sync", found[0])
            return
        time.sleep(0.2)
    raise EnvironmentFailure(f"no window matching {' '.join(search)} within {timeout:g} s")


def desktop_sequence(env: dict[str, str], folder: Path) -> Frames:
    """Under Xvfb (``env``: DISPLAY, XAUTHORITY): mousepad with a document, two words typed,
    the File menu opened and closed, xcalc opened on top; then xterm with a command typed."""
    from cradle.screen.desktop import open_mss

    home = folder / "home"  # no session to restore, no settings from earlier runs
    apps = {
        **env,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "GSETTINGS_BACKEND": "memory",
    }
    document = folder / "notes.txt"
    document.write_text("Meeting notes\nThe budget is approved.\nNext steps: hire two people\n")
    frames: Frames = []
    with _exported(env):
        grabber = open_mss()
        region = {"left": 0, "top": 0, "width": 1920, "height": 1080}

        def grab() -> Image.Image:
            shot = grabber.grab(region)
            return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")

        def then(name: str, *keys: str, wait: float = 0.5) -> None:
            if keys:
                _xdotool(env, *keys)
            time.sleep(wait)
            frames.append((name, _settled(grab)))

        with _app(["mousepad", "--disable-server", str(document)], apps):
            _focus(env, "--class", "mousepad")
            then("mousepad", wait=1.0)
            then("typed word", "type", "--delay", "0", "Hello ")
            then("typed word 2", "type", "--delay", "0", "world ")
            then("menu open", "key", "alt+f")
            then("menu closed", "key", "Escape")
            with _app(["xcalc"], apps):
                then("new window", wait=1.5)
        with _app(["xterm", "-geometry", "160x50+0+0"], apps):
            _focus(env, "--class", "xterm")
            then("xterm", wait=1.0)
            then("typed command", "type", "--delay", "0", "echo incremental")
    return frames


@contextmanager
def _exported(env: dict[str, str]) -> Iterator[None]:
    from benchmarks.xvfb import exported

    with exported(env):
        yield


def _timed(
    perceiver: VisionPerceiver, frame: Image.Image, shown: Image.Image
) -> tuple[VisionPerception, float, float]:
    """The perception, its wall time and the process's CPU time (ms) while it ran."""
    started, cpu = time.perf_counter(), time.process_time()
    result = perceiver.perceive(frame, shown)
    return (result, (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)


def same(a: VisionPerception, b: VisionPerception) -> bool:
    """Identical text lines, words, contour and mark boxes, element list and marked image."""
    return (
        a.text == b.text
        and a.line_words == b.line_words
        and a.boxes == b.boxes
        and a.elements == b.elements
        and np.array_equal(np.asarray(a.image), np.asarray(b.image))
    )


def compare(frames: Frames, repeats: int = 3) -> dict[str, Any]:
    """Both ways through ``frames``: total ms, ratio, and the frames where they differ.

    The machine is shared, so the two are interleaved frame by frame (which goes first
    alternates) and the whole sequence is repeated ``repeats`` times with fresh perceivers
    (the incremental one starts with nothing cached each time); totals are sums over all.
    """
    shown = [downscale(frame, SHOWN_SIDE) for _, frame in frames]
    VisionPerceiver().perceive(frames[0][1], shown[0])  # loads the OCR model
    totals = {"full": 0.0, "incremental": 0.0}
    cpu = {"full": 0.0, "incremental": 0.0}
    differ: dict[str, None] = {}
    rows: list[dict[str, Any]] = []
    for _ in range(max(1, repeats)):
        ways = {"full": VisionPerceiver(incremental=False), "incremental": VisionPerceiver()}
        rows = []
        for index, ((name, frame), image) in enumerate(zip(frames, shown, strict=True)):
            order = ("full", "incremental") if index % 2 == 0 else ("incremental", "full")
            got = {way: _timed(ways[way], frame, image) for way in order}
            for way, (_, ms, used) in got.items():
                totals[way] += ms
                cpu[way] += used
            full, incremental = got["full"][0], got["incremental"][0]
            if not same(full, incremental):
                differ[name] = None
            rows.append(
                {
                    "frame": name,
                    "full_ms": round(got["full"][1], 1),
                    "incremental_ms": round(got["incremental"][1], 1),
                    **incremental.work,
                }
            )
    full_ms, inc_ms = totals["full"], totals["incremental"]
    return {
        "frames": len(frames),
        "repeats": max(1, repeats),
        "full_ms": round(full_ms, 1),
        "incremental_ms": round(inc_ms, 1),
        "ratio": round(inc_ms / full_ms, 3) if full_ms else None,
        "full_cpu_ms": round(cpu["full"], 1),
        "incremental_cpu_ms": round(cpu["incremental"], 1),
        "cpu_ratio": round(cpu["incremental"] / cpu["full"], 3) if cpu["full"] else None,
        "identical": not differ,
        "differ": list(differ),
        "per_frame": rows,
        "per_frame_note": "the last repeat",
    }


def run(desktop: bool = False, mock: bool = True) -> dict[str, Any]:
    """Compare on the mock sequence and (``desktop``) on a recorded Xvfb sequence."""
    report: dict[str, Any] = {"mock_1080p": compare(mock_sequence())} if mock else {}
    if desktop:
        import tempfile

        from benchmarks.xvfb import display

        with (
            tempfile.TemporaryDirectory(prefix="cradle-frames-") as tmp,
            display((1920, 1080)) as env,
        ):
            report["xvfb_1080p"] = compare(desktop_sequence(env, Path(tmp)))
    return report


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """``perception_incremental_vs_full``: total incremental time over total full time, over
    every sequence measured; met only when at most 0.5 and every frame was identical."""
    from benchmarks.suite import figure

    rows = {k: v for k, v in report.items() if isinstance(v, dict) and "full_ms" in v}
    full = sum(r["full_ms"] for r in rows.values())
    incremental = sum(r["incremental_ms"] for r in rows.values())
    ratio = round(incremental / full, 3) if full else None
    identical = all(r["identical"] for r in rows.values())
    parts = "; ".join(
        f"{name}: {r['frames']} frames x {r['repeats']}, {r['incremental_ms']:g} / "
        f"{r['full_ms']:g} ms = "
        f"{r['ratio']:g}, "
        + (
            "identical at every frame"
            if r["identical"]
            else f"NOT IDENTICAL at {', '.join(r['differ'])}"
        )
        for name, r in rows.items()
    )
    errors = "; ".join(f"{k}: {v}" for k, v in report.items() if k.endswith("_error"))
    method = (
        f"{parts}{'; ' + errors if errors else ''}. Each sequence goes through a fresh "
        "incremental VisionPerceiver and one reading every frame whole (marks + OCR, the "
        "OCR model loaded beforehand), interleaved frame by frame, three times over; the "
        "value is the ratio of their total wall times, "
        "identical = same text lines, words, contour boxes, elements and marked image "
        "(benchmarks/frame_sequences.py)"
    )
    return {
        "perception_incremental_vs_full": figure(
            ratio,
            "ratio",
            method,
            "<= 0.5, identical results",
            ratio is not None and ratio <= 0.5 and identical,
        )
    }


def measure(
    quick: bool = False, log: Callable[[str], Any] = print
) -> tuple[dict[str, Any], dict[str, Any]]:
    """This module's figure and the typed-word step under Xvfb with and without perception
    (``step_bench``): the figures and their details."""
    import tempfile

    from benchmarks import step_bench

    log("perception: incremental vs full on recorded frames ...")
    sequences = run_safely(desktop=True)
    log("perception: a typed word under Xvfb, with and without perception ...")
    with tempfile.TemporaryDirectory(prefix="cradle-typed-") as tmp:
        steps = step_bench.run_desktop_pair(13 if quick else 41, Path(tmp))
    return (
        {**figures(sequences), **step_bench.desktop_figures(steps)},
        {"sequences": sequences, "steps": steps},
    )


def run_safely(desktop: bool) -> dict[str, Any]:
    """``run``, with a desktop that cannot be recorded (no Xvfb, app missing) noted in the
    report instead of ending it."""
    report = run(desktop=False)
    if desktop:
        try:
            report.update(run(desktop=True, mock=False))
        except Exception as exc:  # noqa: BLE001 - reported in the figure's method
            report["xvfb_1080p_error"] = f"{type(exc).__name__}: {exc}"
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--desktop", action="store_true", help="also record under Xvfb")
    parser.add_argument("--quick", action="store_true", help="fewer steps in the step runs")
    parser.add_argument(
        "--results",
        metavar="FILE",
        type=Path,
        help="measure this module's figures and the typed-word step figures "
        "and put them into this cradle bench report (results.json)",
    )
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        type=Path,
        help="with --results: re-render BENCHMARKS.md from it",
    )
    args = parser.parse_args(argv)
    if not args.results:
        print(json.dumps(run_safely(args.desktop), indent=2))
        return 0
    from benchmarks.markdown import update_results
    from cradle.errors import CradleError

    found, details = measure(args.quick, log=lambda line: print(line, file=sys.stderr))
    try:  # the old single xvfb figure gives way to the typed pair
        update_results(
            args.results,
            None,
            found,
            "perception_incremental",
            details["sequences"],
            drop_prefix="step_overhead_ms_1080p_xvfb",
        )
        steps = json.loads(args.results.read_text(encoding="utf-8"))["details"].get("steps", {})
        update_results(args.results, args.markdown, {}, "steps", {**steps, **details["steps"]})
    except CradleError as exc:
        print(f"frame_sequences: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
