"""`cradle run --env desktop` end to end under Xvfb, against apps the project has never seen.

A scripted fake OpenAI-compatible server plays the model. Its clicks are computed on the
*downscaled* screenshot it receives (1920x1080 shown at 960x540), so a wrong mapping, a
wrong origin or a lost focus shows as a missing effect in the Tk form's state file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.desktop.helpers import centre, read_state, tk_command
from tests.fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.desktop

FILLER = {
    "information_gathering": {"screen_description": "A form.", "visible_text": [], "elements": []},
    "self_reflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
    "task_inference": {"subtask": "next", "reasoning": "script"},
    "skill_curation": {"relevant_skills": [], "new_skills": []},
}


class Script:
    """Fused replies: step n runs ``plans[n-1](request)``; after the last, done."""

    def __init__(self, plans: list[Callable[[dict], list[str]]]) -> None:
        self.plans = plans
        self.step = 0

    def __call__(self, body: dict) -> dict:
        assert body["response_format"]["json_schema"]["name"] == "FusedStep"
        self.step += 1
        if self.step <= len(self.plans):
            actions, done = self.plans[self.step - 1](body), False
        else:
            actions, done = [], True
        return {
            **FILLER,
            "action_planning": {"reasoning": "scripted", "actions": actions, "done": done},
        }


def cradle_run(
    tmp_path: Path, server: FakeOpenAIServer, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess:
    full = {**os.environ, **env}
    full.pop("OPENAI_BASE_URL", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "run",
            "--env",
            "desktop",
            "--task",
            "scripted",
            "--base-url",
            server.base_url,
            "--model",
            "fake-vlm",
            "--mode",
            "fused",
            "--max-steps",
            "8",
            "--runs-dir",
            str(tmp_path / "runs"),
            *extra,
        ],
        cwd=tmp_path,
        env=full,
        capture_output=True,
        text=True,
        timeout=180,
    )


def steps_of(tmp_path: Path) -> list[dict]:
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    return [json.loads(line) for line in (run_dir / "trajectory.jsonl").read_text().splitlines()]


def test_tk_form_click_text_downscaled_click_type_and_enter(
    tmp_path: Path, display: dict[str, str]
) -> None:
    state_file = tmp_path / "tk-state.json"
    title = "Cradle Tk Form E2E"

    def widgets() -> dict:
        return read_state(state_file, lambda s: "widgets" in s)["widgets"]

    def half(box: list[int]) -> str:
        x, y = centre(box)
        return f"x={x // 2}, y={y // 2}"  # the model sees 960x540: coordinates are halved

    script = Script(
        [
            lambda body: ["click_text(text='Apply')"],
            lambda body: [f"click({half(widgets()['count_button'])})"],
            lambda body: [
                f"click({half(widgets()['entry'])})",
                "type_text(text='world')",
                "press_key(key='enter')",
            ],
        ]
    )
    env = {
        **display,
        "CRADLE_DESKTOP_LAUNCH": tk_command(state_file, title, x=700, y=400),
        "CRADLE_DESKTOP_WINDOW": title,
        "CRADLE_DESKTOP_CROP": "false",
        "CRADLE_DESKTOP_MONITOR": "1",
    }
    with FakeOpenAIServer(script) as server:
        result = cradle_run(tmp_path, server, env, "--max-image-side", "960")
    assert result.returncode == 0, result.stdout + result.stderr
    state = read_state(state_file)
    assert state["clicks"] == ["apply", "count"], state
    assert state["submitted"] == ["world"], state
    assert state["label"] == "Hello world"

    steps = steps_of(tmp_path)
    assert steps[0]["observation"]["screen_size"] == [1920, 1080]
    assert steps[0]["observation"]["image_size"] == [960, 540]
    assert [a["status"] for s in steps for a in s["actions"]] == ["ok"] * 5
    texts = [t["label"] for t in steps[0]["observation"]["screen_text"]]
    assert any("Apply" in t for t in texts), texts
    assert steps[0]["observation"]["elements"], "no set-of-mark elements on the first step"
    assert steps[0]["observation"]["marks_image"]

    # The model server is gone; a fresh instance of the window replays to the same state.
    replay_state = tmp_path / "tk-state-replay.json"
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    replayed = subprocess.run(
        [sys.executable, "-m", "cradle", "replay", str(run_dir)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env={
            **os.environ,
            **env,
            "CRADLE_DESKTOP_LAUNCH": tk_command(replay_state, title, x=700, y=400),
        },
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    again = read_state(replay_state)
    assert {k: again[k] for k in ("clicks", "submitted", "label")} == {
        k: state[k] for k in ("clicks", "submitted", "label")
    }


def test_xterm_typing_and_hotkey(tmp_path: Path, display: dict[str, str]) -> None:
    target = tmp_path / "hi.txt"
    title = "cradle-xterm-e2e"
    script = Script(
        [
            lambda body: [
                "type_text(text='garbage')",
                "hotkey('ctrl', 'u')",
                f"type_text(text='echo hi > {target}')",
                "press_key(key='enter')",
            ],
            lambda body: ["wait(seconds=0.5)"],
        ]
    )
    env = {
        **display,
        "CRADLE_DESKTOP_LAUNCH": f"xterm -title {title} -geometry 80x24+100+100 -e sh",
        "CRADLE_DESKTOP_WINDOW": title,
        "CRADLE_DESKTOP_OCR": "false",
    }
    with FakeOpenAIServer(script) as server:
        result = cradle_run(tmp_path, server, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == "hi\n"
    steps = steps_of(tmp_path)
    # Cropped to the xterm window: the capture is the window, not the 1920x1080 screen.
    assert steps[0]["observation"]["screen_size"][0] < 1920
