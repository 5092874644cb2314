"""The desktop environment in-process under Xvfb: geometry, window crop, focus, failures."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from cradle.environment import load_environment
from cradle.errors import EnvironmentFailure, RunInterrupted
from cradle.screen.mapping import CoordinateMap
from cradle.skills import SkillContext
from tests.desktop.helpers import centre, read_state, tk_command, xdotool

pytestmark = pytest.mark.desktop


def test_full_monitor_geometry_and_capture(desktop_env: dict[str, str]) -> None:
    env = load_environment("desktop", ocr=False)
    screen = env.start()
    try:
        frame = screen.capture()
        assert frame.size == (1920, 1080) and frame.mode == "RGB"
        g = screen.geometry
        assert g.capture_size == (1920, 1080) and g.origin == (0, 0) and g.scale == 1.0
    finally:
        env.close()


def test_window_crop_maps_clicks_and_typing_into_the_window(
    desktop_env: dict[str, str], tmp_path: Path
) -> None:
    state_file = tmp_path / "state.json"
    title = "Cradle Tk Crop"
    env = load_environment(
        "desktop", launch=tk_command(state_file, title, x=640, y=360), window_title=title, ocr=False
    )
    screen = env.start()
    try:
        widgets = read_state(state_file, lambda s: "widgets" in s)["widgets"]
        frame = screen.capture()
        g = screen.geometry
        assert frame.size[0] < 1920 and g.origin[0] >= 600 and g.origin[1] >= 300
        # The model sees the window at half size; map a point on that image to the Entry.
        shown = (frame.width // 2, frame.height // 2)
        ctx = SkillContext(screen=screen, mapping=CoordinateMap(shown, g))
        ex, ey = centre(widgets["entry"])
        ctx.click((ex - g.origin[0]) / 2, (ey - g.origin[1]) / 2)
        ctx.type_text("café ok")  # non-ASCII goes through xdotool
        ctx.press("enter")
        state = read_state(state_file, lambda s: s["submitted"])
        assert state["submitted"] == ["café ok"]
    finally:
        env.close()
    assert env.process is not None and env.process.poll() is not None  # close() ended it


def test_lost_focus_is_restored_and_reported(desktop_env: dict[str, str], tmp_path: Path) -> None:
    title = "Cradle Tk Focus"
    env = load_environment(
        "desktop", launch=tk_command(tmp_path / "s.json", title), window_title=title, ocr=False
    )
    env.start()
    other = subprocess.Popen(
        ["xterm", "-title", "intruder", "-geometry", "40x10+1200+700"],
        env={**desktop_env, **dict(__import__("os").environ)},
    )
    try:
        for _ in range(100):
            found = xdotool(desktop_env, "search", "--onlyvisible", "--name", "^intruder$")
            if found:
                break
            time.sleep(0.1)
        xdotool(desktop_env, "windowfocus", "--sync", found.split()[0])
        notes = env.notes()
        assert any("focus was lost to window 'intruder'; refocused" in n for n in notes), notes
        assert env.notes() == []  # focus is back; nothing new to report
    finally:
        other.terminate()
        other.wait(timeout=5)
        env.close()


def test_window_that_never_appears_is_a_clear_failure(desktop_env: dict[str, str]) -> None:
    env = load_environment(
        "desktop",
        launch="sleep 30",
        window_title="never-shown-window",
        window_timeout=0.5,
        ocr=False,
    )
    with pytest.raises(EnvironmentFailure, match="no window titled 'never-shown-window'"):
        env.start()
    env.close()
    assert env.process is not None and env.process.poll() is not None


def test_failsafe_corner_interrupts_the_run(desktop_env: dict[str, str]) -> None:
    env = load_environment("desktop", ocr=False)
    screen = env.start()
    try:
        xdotool(desktop_env, "mousemove", "0", "0")
        with pytest.raises(RunInterrupted, match="fail-safe"):
            screen.press("shift")
        screen.release_all()  # works in the corner too
    finally:
        xdotool(desktop_env, "mousemove", "960", "540")
        env.close()
