"""Recorded frame sequences, read by incremental and by full perception: time and equality.

    python -m benchmarks.frame_sequences [--desktop]

Sequences: mock-notepad at 1920x1080 (three words typed, the File menu opened and closed,
the Save As dialog opened, a name typed, closed) and, with ``--desktop``, the real desktop
under Xvfb at 1920x1080 (mousepad: words typed, the File menu opened, xcalc started as a new
window; xterm: a command typed). Each sequence goes through two fresh ``VisionPerceiver``s
(marks, OCR, no accessibility tree: the tree is not read from pixels), one incremental and
one with ``incremental=False`` (every frame read whole), the OCR model loaded beforehand.
``compare`` says whether the two gave identical text, words, boxes and element lists on every
frame, and the ratio of their total perception times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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

    proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield proc
    finally:
        stop_process(proc)


def _xdotool(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["xdotool", *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=10, check=False)
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

        with _app(["mousepad", "--disable-server", str(document)], env):
            _focus(env, "--class", "mousepad")
            then("mousepad", wait=1.0)
            then("typed word", "type", "--delay", "0", "Hello ")
            then("typed word 2", "type", "--delay", "0", "world ")
            then("menu open", "key", "alt+f")
            then("menu closed", "key", "Escape")
            with _app(["xcalc"], env):
                then("new window", wait=1.5)
        with _app(["xterm", "-geometry", "160x50+0+0"], env):
            _focus(env, "--class", "xterm")
            then("xterm", wait=1.0)
            then("typed command", "type", "--delay", "0", "echo incremental")
    return frames


@contextmanager
def _exported(env: dict[str, str]) -> Iterator[None]:
    from benchmarks.xvfb import exported

    with exported(env):
        yield


def _perceive(perceiver: VisionPerceiver, frames: Frames) -> tuple[list[VisionPerception],
                                                                    float]:
    results, started = [], time.perf_counter()
    for _, frame in frames:
        results.append(perceiver.perceive(frame, downscale(frame, SHOWN_SIDE)))
    return results, (time.perf_counter() - started) * 1000


def same(a: VisionPerception, b: VisionPerception) -> bool:
    """Identical text lines, words, contour and mark boxes, element list and marked image."""
    return (a.text == b.text and a.line_words == b.line_words and a.boxes == b.boxes
            and a.elements == b.elements
            and np.array_equal(np.asarray(a.image), np.asarray(b.image)))


def compare(frames: Frames) -> dict[str, Any]:
    """Both ways through ``frames``: total ms, ratio, and the frames where they differ."""
    warm = VisionPerceiver()
    warm.perceive(frames[0][1], downscale(frames[0][1], SHOWN_SIDE))  # loads the OCR model
    full, full_ms = _perceive(VisionPerceiver(incremental=False), frames)
    incremental, inc_ms = _perceive(VisionPerceiver(), frames)
    differ = [name for (name, _), a, b in zip(frames, full, incremental, strict=True)
              if not same(a, b)]
    return {
        "frames": len(frames),
        "full_ms": round(full_ms, 1),
        "incremental_ms": round(inc_ms, 1),
        "ratio": round(inc_ms / full_ms, 3) if full_ms else None,
        "identical": not differ,
        "differ": differ,
        "per_frame": [{"frame": name, "full_ms": a.timings_ms.get("total"),
                       "incremental_ms": b.timings_ms.get("total"), **b.work}
                      for (name, _), a, b in zip(frames, full, incremental, strict=True)],
    }


def run(desktop: bool = False) -> dict[str, Any]:
    """Compare on the mock sequence and (``desktop``) on a recorded Xvfb sequence."""
    report: dict[str, Any] = {"mock_1080p": compare(mock_sequence())}
    if desktop:
        import tempfile

        from benchmarks.xvfb import display

        with tempfile.TemporaryDirectory(prefix="cradle-frames-") as tmp, \
                display((1920, 1080)) as env:
            report["xvfb_1080p"] = compare(desktop_sequence(env, Path(tmp)))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--desktop", action="store_true", help="also record under Xvfb")
    args = parser.parse_args()
    print(json.dumps(run(args.desktop), indent=2))


if __name__ == "__main__":
    main()
