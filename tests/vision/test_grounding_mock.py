"""Grounding skills on the mocked notepad: no display, no perceiver, text read on the spot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from cradle.environment import load_environment
from cradle.errors import SkillExecutionError
from cradle.paths import shared_skills_dir
from cradle.screen.mapping import CoordinateMap
from cradle.skills import SkillContext
from cradle.skills.context import EpisodeView
from cradle.vision.perceiver import VisionPerceiver

spec = importlib.util.spec_from_file_location(
    "grounding_skills", shared_skills_dir() / "grounding.py"
)
grounding = importlib.util.module_from_spec(spec)
spec.loader.exec_module(grounding)


def start(shown: tuple[int, int] | None = None, image_folders: tuple[Path, ...] = ()):
    env = load_environment("mock-notepad")
    screen = env.start()
    size = shown or screen.capture().size
    ctx = SkillContext(
        screen=screen,
        mapping=CoordinateMap(size, screen.geometry),
        episode=EpisodeView(environment=env, image_folders=image_folders),
    )
    return env, screen, ctx


def test_click_text_opens_the_file_menu_and_save_as() -> None:
    env, _, ctx = start()
    assert "clicked 'File'" in grounding.click_text(ctx, text="File")
    assert env.state()["menu"] == "File"
    grounding.click_text(ctx, text="save as")  # the screen changed: read again
    assert env.state()["dialog"] == "Save As"


def test_click_text_on_a_downscaled_image() -> None:
    env, screen, ctx = start(shown=(512, 384))
    grounding.click_text(ctx, text="Edit")
    assert env.state()["menu"] == "Edit"
    assert ctx.clicks and ctx.clicks[0][0] < 100  # model-image pixels, not capture pixels


def test_click_text_failures_are_clear() -> None:
    _, _, ctx = start()
    with pytest.raises(SkillExecutionError, match="not found on the screen; closest texts"):
        grounding.click_text(ctx, text="Preferences and extensions")


def test_click_label_uses_the_marks_the_model_saw() -> None:
    env, screen, ctx = start()
    frame = screen.capture()
    perception = VisionPerceiver(ocr=False).perceive(frame, frame)
    ctx.perception = perception
    file_menu = next(w for w in screen.widgets() if w.label == "File")
    label = next(
        e.label
        for e in perception.elements
        if abs(e.x - file_menu.center[0]) < 20 and abs(e.y - file_menu.center[1]) < 12
    )
    grounding.click_label(ctx, label=int(label))
    assert env.state()["menu"] == "File"
    with pytest.raises(SkillExecutionError, match="no mark 999"):
        grounding.click_label(ctx, label=999)


def test_click_image_with_an_icon_cut_from_the_screen(tmp_path: Path) -> None:
    env, screen, ctx = start(image_folders=(tmp_path,))
    frame = screen.capture()
    edit = next(w for w in screen.widgets() if w.label == "Edit")
    x0, y0, x1, y1 = edit.rect
    frame.crop((x0, y0, x1, y1)).save(tmp_path / "edit_menu.png")
    assert "clicked image 'edit_menu'" in grounding.click_image(ctx, name="edit_menu")
    assert env.state()["menu"] == "Edit"
    with pytest.raises(SkillExecutionError, match="no image named 'nope'"):
        grounding.click_image(ctx, name="nope")
