"""--dry-run: the whole loop runs on the real screen, no input is sent, the plan is recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cradle.screen.dry_run import DryRunScreen
from cradle.session import ModelSettings, SafetySettings, Session, SessionSettings
from tests.desktop.conftest import display  # noqa: F401 - the Xvfb fixture
from tests.desktop.helpers import centre, read_state, tk_command
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.helpers import Plans, cradle_env, cradle_run

PLAN = ["click(x=200, y=150)", "type_text(text='should not appear')", "hotkey('ctrl', 's')"]


def test_dry_run_on_the_mock_notepad_records_the_plan_and_reports_it(tmp_path: Path) -> None:
    with FakeOpenAIServer(Plans(PLAN)) as server:
        result = cradle_run(tmp_path, server.base_url, "--dry-run")
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr and "planned" in result.stderr
    outcomes = result.outcomes()
    assert [o["status"] for o in outcomes] == ["planned"] * 3
    assert outcomes[0]["clicks"] == [[200, 150]]
    assert result.info()["settings"]["safety"]["dry_run"] is True
    steps = result.steps()
    # nothing changed on the screen: both steps saw the same pixels
    assert steps[1]["observation"]["changed"] is False

    report = subprocess.run(
        [sys.executable, "-m", "cradle", "report", str(result.run_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=cradle_env(),
    )
    assert report.returncode == 0, report.stderr
    html = (result.run_dir / "report.html").read_text()
    assert 'class="status planned"' in html and 'class="click"' in html


def test_dry_run_in_process_leaves_the_notepad_untouched(tmp_path: Path) -> None:
    with FakeOpenAIServer(Plans(PLAN, ["close_window()"])) as server:
        settings = SessionSettings(
            env="mock-notepad",
            task="t",
            runs_dir=tmp_path / "runs",
            generated_skills_dir=None,
            model=ModelSettings(model="fake-vlm", base_url=server.base_url, timeout=5),
            safety=SafetySettings(dry_run=True, confirm="never"),
        )
        settings.memory.enabled = False
        session = Session(settings)
        result = session.run()
    assert result.exit_code == 0, result.reason
    state = session.environment.state()
    assert state["text"] == "" and state["running"] is True and state["dialog"] is None


def test_dry_run_screen_passes_capture_and_logs_input() -> None:
    class Inner:
        closed = False
        geometry = "geometry"

        def capture(self) -> str:
            return "pixels"

        def close(self) -> None:
            self.closed = True

    inner = Inner()
    screen = DryRunScreen(inner)  # type: ignore[arg-type]
    screen.click(1, 2)
    screen.type_text("secret value")
    screen.hotkey("ctrl", "s")
    screen.release_all()
    assert screen.capture() == "pixels" and screen.geometry == "geometry"
    assert screen.suppressed == [
        ("click", (1, 2, "left", 1)),
        ("type_text", (12,)),
        ("hotkey", ("ctrl", "s")),
    ]
    screen.close()
    assert inner.closed


@pytest.mark.desktop
def test_dry_run_on_a_real_tk_window_leaves_it_untouched(
    tmp_path: Path,
    display: dict[str, str],  # noqa: F811
) -> None:
    state_file = tmp_path / "tk-state.json"
    title = "Cradle Dry Run Form"
    full = {
        **display,
        "CRADLE_DESKTOP_LAUNCH": tk_command(state_file, title, x=600, y=300),
        "CRADLE_DESKTOP_WINDOW": title,
        "CRADLE_DESKTOP_CROP": "false",
        "CRADLE_DESKTOP_OCR": "false",
        "CRADLE_DESKTOP_MARKS": "false",
        "CRADLE_DESKTOP_STOP_HOTKEY": "none",
    }

    def plan(body: dict) -> list[str]:
        boxes = read_state(state_file, lambda s: "widgets" in s)["widgets"]
        ax, ay = centre(boxes["apply_button"])
        ex, ey = centre(boxes["entry"])
        return [
            f"click(x={ax // 2}, y={ay // 2})",
            f"click(x={ex // 2}, y={ey // 2})",
            "type_text(text='typed')",
            "press_key(key='enter')",
        ]

    calls = {"n": 0}

    def handler(body: dict) -> dict:
        from tests.reliability.helpers import fused

        calls["n"] += 1
        return fused(plan(body)) if calls["n"] == 1 else fused([], done=True)

    with FakeOpenAIServer(handler) as server:
        result = cradle_run(
            tmp_path,
            server.base_url,
            "--env",
            "desktop",
            "--dry-run",
            "--max-image-side",
            "960",
            env={**os.environ, **full},
            timeout=150,
        )
    assert result.code == 0, result.stderr[-3000:]
    outcomes = result.outcomes()
    assert [o["status"] for o in outcomes] == ["planned"] * 4
    assert len(outcomes[0]["clicks"]) == 1
    state = read_state(state_file)
    assert state["clicks"] == [] and state["entry"] == "" and state["submitted"] == []
    assert state["label"] == "Waiting"
