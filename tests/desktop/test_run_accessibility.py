"""`cradle run` clicks an icon-only button by its accessible name, on a GTK window the project
never saw, with a fake OpenAI-compatible server as the model.

The window (tests/desktop/apps/gtk_icons.py) draws "Zoom in" as a plus sign: no pixel spells
the name, so only the app's accessibility tree (AT-SPI, in a private D-Bus session) can ground
it. The same run with the tree turned off fails to find it, which shows the name came from the
tree and not from OCR.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from cradle.screen.dbus_session import private_session
from tests.desktop.helpers import read_state
from tests.desktop.test_run_desktop import Script, cradle_run, steps_of
from tests.fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.desktop

APP = Path(__file__).parent / "apps" / "gtk_icons.py"
TITLE = "Cradle Zoom Window"


def run_zoom(tmp_path: Path, display: dict[str, str], *, accessibility: bool):
    state = tmp_path / "zoom.json"
    seen: list[str] = []

    def plan(body: dict) -> list[str]:
        seen.append(str(body["messages"]))
        return ["click_text(text='Zoom in')"]

    env = {
        **display,
        "CRADLE_DESKTOP_LAUNCH": shlex.join(
            ["/usr/bin/python3", str(APP), "--state", str(state), "--title", TITLE]
        ),
        "CRADLE_DESKTOP_WINDOW": f"^{TITLE}$",
        "CRADLE_DESKTOP_ACCESSIBILITY": "true" if accessibility else "false",
    }
    with private_session(display) as bus, FakeOpenAIServer(Script([plan])) as server:
        result = cradle_run(tmp_path, server, {**env, **bus}, "--max-steps", "3")
    return result, read_state(state), seen


def test_icon_button_clicked_by_its_accessible_name(
    tmp_path: Path, display: dict[str, str]
) -> None:
    result, state, prompts = run_zoom(tmp_path, display, accessibility=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert state["zoom"] == 110 and state["clicks"] == ["Zoom in"], state
    [first, *_] = steps_of(tmp_path)
    named = [e for e in first["observation"]["elements"] if e["name"] == "Zoom in"]
    assert named and named[0]["source"] == "a11y" and named[0]["role"] == "push button", named
    assert first["actions"][0]["status"] == "ok", first["actions"]
    assert '\\"Zoom in\\"' in prompts[0] or '"Zoom in"' in prompts[0]


def test_without_the_tree_the_name_is_not_on_screen(
    tmp_path: Path, display: dict[str, str]
) -> None:
    result, state, _ = run_zoom(tmp_path, display, accessibility=False)
    assert state.get("zoom") == 100 and not state.get("clicks"), state
    [first, *_] = steps_of(tmp_path)
    assert first["actions"][0]["status"] != "ok"
    assert "not found on the screen" in first["actions"][0]["error"]
    assert not any(e["source"] == "a11y" for e in first["observation"]["elements"])
