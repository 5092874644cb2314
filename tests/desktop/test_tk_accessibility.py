"""A Tk window, which exposes no accessibility tree, works as before with the tree turned on.

The desktop environment runs with its default options (accessibility on) inside a real
private D-Bus session, where the AT-SPI bus answers but has nothing of Tk's: the perception
still has OCR and contour elements and no tree ones, no note claims the tree is unavailable,
and ``click_text`` clicks a Tk button by its drawn text (the form's state file shows it).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from cradle.environment import load_environment
from cradle.paths import shared_skills_dir
from cradle.screen.dbus_session import private_session
from cradle.screen.mapping import CoordinateMap
from cradle.skills import SkillContext
from cradle.skills.context import EpisodeView
from tests.desktop.helpers import read_state, tk_command

pytestmark = pytest.mark.desktop

spec = importlib.util.spec_from_file_location(
    "grounding_skills_tk", shared_skills_dir() / "grounding.py"
)
assert spec is not None and spec.loader is not None
grounding = importlib.util.module_from_spec(spec)
spec.loader.exec_module(grounding)


@pytest.fixture
def session_bus(
    desktop_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A private D-Bus session (and AT-SPI bus) exported to this process and its apps."""
    with private_session(desktop_env) as bus:
        for key, value in bus.items():
            monkeypatch.setenv(key, value)
        yield bus


def test_tk_form_keeps_ocr_and_contours_and_click_text_with_accessibility_on(
    tmp_path: Path, session_bus: dict[str, str]
) -> None:
    state_file = tmp_path / "tk-state.json"
    title = "Cradle Tk Form A11y"
    env = load_environment(
        "desktop",
        launch=tk_command(state_file, title, x=500, y=300),
        window_title=title,
        stop_hotkey="none",
    )
    assert env.settings.accessibility, "accessibility is on by default"
    try:
        screen = env.start()
        read_state(state_file, lambda s: "widgets" in s)
        perceiver = env.perceiver()
        assert env.accessibility is not None
        frame = screen.capture()
        mapping = CoordinateMap(frame.size, screen.geometry)
        perception = perceiver.perceive(frame, frame, mapping)

        sources = {e.source for e in perception.elements}
        assert perception.tree_done and perception.accessible == []
        assert "a11y" not in sources and {"ocr", "contours"} <= sources, sources
        assert any("Apply" in e.name for e in perception.elements if e.source == "ocr")
        assert env.accessibility.unavailable == "", env.accessibility.unavailable
        assert not any("accessibility" in note for note in env.notes())

        ctx = SkillContext(
            screen=screen,
            mapping=mapping,
            perception=perception,
            episode=EpisodeView(environment=env, perceiver=perceiver),
        )
        result = grounding.click_text(ctx, text="Apply")
        assert "clicked 'Apply'" in result
        state = read_state(state_file, lambda s: s["clicks"])
        assert state["clicks"] == ["apply"] and state["label"] == "Applied", state
    finally:
        env.close()
