"""Settling on a real display: the capture after typing into an xterm shows what was typed.

Each run types into an xterm in step 1; step 2's capture must show the text. While the fake
model handles step 2's request, the test captures the same window half a second later (the
screen at rest): the recorded capture must equal it, so no repaint was still on its way.
``late`` runs a program that echoes typed keys 80 ms late (what a loaded machine did to a
real terminal), so a capture taken without waiting would miss the text.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.desktop.helpers import APPS
from tests.fakes.openai_server import FakeOpenAIServer
from tests.ocr import ocr_text
from tests.reliability.helpers import fused

pytestmark = pytest.mark.desktop

TITLE = "cradle-settle-xterm"
MARKER = "settledmarker"
PROGRAMS = {"sh": "sh", "late": shlex.join([sys.executable, str(APPS / "late_echo.py"), "0.08"])}


def _window_at_rest() -> Image.Image:
    from cradle.screen import x11
    from cradle.screen.desktop import DesktopScreen

    time.sleep(0.5)
    screen = DesktopScreen(window=x11.find_windows(TITLE)[-1])
    try:
        return screen.capture()
    finally:
        screen.close()


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_capture_after_typing_shows_the_typed_text(
    tmp_path: Path, desktop_env: dict[str, str], program: str
) -> None:
    plans = [[f"type_text(text='echo {MARKER}')"], ["move_to(x=2, y=2)"]]
    at_rest: dict[int, Image.Image] = {}

    def model(body: dict) -> dict:
        number = len(server.requests)
        if number == 2:
            at_rest[number] = _window_at_rest()
        return fused(plans[number - 1]) if number <= len(plans) else fused([], done=True)

    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-test",
        "CRADLE_DESKTOP_WINDOW": TITLE,
        "CRADLE_DESKTOP_LAUNCH": f"xterm -title {TITLE} -geometry 60x8+100+100 "
        f"-fa 'DejaVu Sans Mono' -fs 14 -e {PROGRAMS[program]}",
        "CRADLE_DESKTOP_OCR": "false",
        "CRADLE_DESKTOP_MARKS": "false",
    }
    env.pop("OPENAI_BASE_URL", None)
    with FakeOpenAIServer(model) as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cradle",
                "run",
                "--env",
                "desktop",
                "--task",
                "type",
                "--base-url",
                server.base_url,
                "--model",
                "fake-vlm",
                "--no-memory",
                "--runs-dir",
                str(tmp_path / "runs"),
                "--generated-skills-dir",
                str(tmp_path / "generated"),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    steps = [json.loads(line) for line in (run_dir / "trajectory.jsonl").read_text().splitlines()]
    seen = steps[1]["observation"]
    assert seen["changed"] is True, "the capture after typing was recorded as unchanged"
    assert seen["settled"] is True and 0 < seen["settle_ms"] < 1000
    captured = Image.open(run_dir / seen["screenshot"]).convert("RGB")
    assert ImageChops.difference(captured, at_rest[2].convert("RGB")).getbbox() is None, (
        "the screen changed after the capture: a repaint was missed"
    )
    assert MARKER in ocr_text(captured.resize((captured.width * 2, captured.height * 2)))
