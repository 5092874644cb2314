"""A planner plus a grounding model on a real Xvfb window: the planner names the widgets in
words, the grounding model (a fake that knows where the Tk form's widgets are, as a real one
would read them off the screenshot) answers in thousandths of the image it was sent, and the
clicks must land on the real buttons and field (the form's state file says what happened)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.desktop.helpers import centre, read_state, tk_command
from tests.fakes.gui_models import FakeGrounder, general_model
from tests.fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.desktop
SCREEN = (1920, 1080)


def test_planner_and_grounder_click_described_widgets(
    tmp_path: Path, display: dict[str, str]
) -> None:
    state_file = tmp_path / "tk-state.json"
    title = "Cradle Grounded Form"
    env = {
        **os.environ,
        **display,
        "OPENAI_API_KEY": "sk-grounded-desktop",
        "CRADLE_DESKTOP_LAUNCH": tk_command(state_file, title, x=600, y=300),
        "CRADLE_DESKTOP_WINDOW": title,
        "CRADLE_DESKTOP_CROP": "false",
        "CRADLE_DESKTOP_MONITOR": "1",
    }
    env.pop("OPENAI_BASE_URL", None)

    class Grounder(FakeGrounder):
        """Reads the widgets' screen boxes once the form has written them."""

        def __call__(self, body: dict):
            widgets = read_state(state_file, lambda s: "widgets" in s)["widgets"]
            for name, key in (("the Count button", "count_button"), ("the text field", "entry")):
                x, y = centre(widgets[key])
                self.targets[name] = (x / SCREEN[0], y / SCREEN[1])
            return super().__call__(body)

    grounder = Grounder({}, convention="relative-1000", prompt_tokens=50)
    plans = [
        {
            "reasoning": "count",
            "done": False,
            "actions": ["click_target(description='the Count button')"],
        },
        {
            "reasoning": "type",
            "done": False,
            "actions": [
                "type_into(description='the text field', text='world')",
                "press_key(key='enter')",
            ],
        },
    ]
    with FakeOpenAIServer(general_model(plans)) as general, FakeOpenAIServer(grounder) as g:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cradle",
                "run",
                "--env",
                "desktop",
                "--task",
                "count, type",
                "--base-url",
                general.base_url,
                "--model",
                "planner",
                "--max-steps",
                "5",
                "--max-image-side",
                "1280",
                "--runs-dir",
                str(tmp_path / "runs"),
                "--no-memory",
                "--grounding-base-url",
                g.base_url,
                "--grounding-model",
                "grounder",
                "--grounding-coordinates",
                "relative-1000",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    state = read_state(state_file, lambda s: s.get("submitted"))
    assert state["clicks"] == ["count"] and state["submitted"] == ["world"], state
    assert grounder.asked == ["the Count button", "the text field"]
    (run,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    steps = [json.loads(line) for line in (run / "trajectory.jsonl").read_text().splitlines()]
    assert steps[0]["observation"]["image_size"] == [1280, 720]
    result_1 = steps[0]["actions"][0]["result"]
    assert result_1["target"] == "the Count button" and result_1["latency_ms"] > 0
    assert "relative-1000 of the 1280x720 image" in result_1["coordinates"]
