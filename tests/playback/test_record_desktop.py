"""`cradle record` on a real window under Xvfb, driven with xdotool, replayed onto a fresh one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.desktop.conftest import display  # noqa: F401 - the Xvfb fixture
from tests.desktop.helpers import read_state, tk_command, xdotool
from tests.trajectory.helpers import ROOT

pytestmark = [pytest.mark.desktop, pytest.mark.slow]
TITLE = "Cradle Record Demo"


def _centre(box: list[int]) -> tuple[int, int]:
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


def _env(screen_env: dict[str, str], state: Path) -> dict[str, str]:
    return {
        **os.environ,
        **screen_env,
        "PYTHONPATH": str(ROOT),
        "CRADLE_DESKTOP_LAUNCH": tk_command(state, TITLE, x=700, y=400),
        "CRADLE_DESKTOP_WINDOW": TITLE,
        "CRADLE_DESKTOP_CROP": "false",
        "CRADLE_DESKTOP_MONITOR": "1",
        "CRADLE_DESKTOP_MARKS": "false",
        "CRADLE_DESKTOP_OCR": "false",
    }


def test_record_with_xdotool_then_replay_on_a_fresh_window(
    tmp_path: Path,
    display: dict[str, str],  # noqa: F811
) -> None:
    state1 = tmp_path / "state1.json"
    out = tmp_path / "demo"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cradle",
            "record",
            "--env",
            "desktop",
            "--out",
            str(out),
            "--max-image-side",
            "960",
            "--task",
            "submit world, count",
        ],
        cwd=tmp_path,
        env=_env(display, state1),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("recording;" in line for line in lines):
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        widgets = read_state(state1, lambda s: "widgets" in s)["widgets"]
        time.sleep(1.0)
        entry, count = _centre(widgets["entry"]), _centre(widgets["count_button"])
        for args in (
            ["mousemove", str(entry[0]), str(entry[1]), "click", "1"],
            ["type", "--delay", "30", "world"],
            ["key", "Return"],
            ["mousemove", str(count[0]), str(count[1]), "click", "1"],
            ["key", "ctrl+shift+q"],
        ):
            xdotool(display, *args)
            time.sleep(0.8)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=5)
    assert process.returncode == 0, "".join(lines)
    recorded = read_state(state1, lambda s: s.get("clicks") == ["count"])
    assert recorded["submitted"] == ["world"], recorded
    acts = [line.split("act", 1)[1].strip() for line in lines if line.strip().startswith("act")]
    assert acts == [
        f"click(x={entry[0] // 2}, y={entry[1] // 2})",
        "type_text(text='world')",
        "press_key(key='enter')",
        f"click(x={count[0] // 2}, y={count[1] // 2})",
    ]

    state2 = tmp_path / "state2.json"
    full = _env(display, state2)
    result = subprocess.run(
        [sys.executable, "-m", "cradle", "replay", str(out), "--timeout", "5"],
        cwd=tmp_path,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    replayed = read_state(state2, lambda s: s.get("clicks") == ["count"])
    for key in ("submitted", "clicks", "label"):
        assert replayed[key] == recorded[key], (key, replayed, recorded)
