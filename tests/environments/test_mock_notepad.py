"""mock-notepad end to end through its screen: typing, menus, the Save As dialog, hotkeys, OCR."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import ImageChops

from cradle.environment import Environment, load_environment
from cradle.screen.mock import MockScreen


@pytest.fixture
def notepad() -> tuple[Environment, MockScreen]:
    env = load_environment("mock-notepad")
    screen = env.start()
    assert isinstance(screen, MockScreen)
    return env, screen


def save_as_by_clicks(screen: MockScreen) -> None:
    screen.click(*screen.element_center("File"))
    screen.click(*screen.element_center("Save As..."))


def test_found_by_name_and_starts_as_untitled(notepad: tuple[Environment, MockScreen]) -> None:
    env, screen = notepad
    assert env.name == "mock-notepad" and env.description
    state: dict[str, Any] = env.state()
    assert state["title"] == "Untitled - Notepad"
    assert state["text"] == "" and state["files"] == {} and state["dialog"] is None
    assert state["focus"] == "text_area"
    assert [w.label for w in screen.widgets() if w.role == "menu"] == ["File", "Edit", "Help"]


def test_typing_shows_in_state_and_in_the_text_area_pixels(
    notepad: tuple[Environment, MockScreen],
) -> None:
    env, screen = notepad
    before = screen.capture()
    screen.type_text("Hello\nworld")
    after = screen.capture()
    assert env.state()["text"] == "Hello\nworld"
    changed = ImageChops.difference(before, after).getbbox()
    assert changed is not None
    x0, y0, x1, y1 = screen.find("text_area").rect
    assert x0 <= changed[0] and y0 <= changed[1] and changed[2] <= x1 and changed[3] <= y1


def test_save_as_by_clicks_stores_the_file_and_renames_the_window(
    notepad: tuple[Environment, MockScreen],
) -> None:
    env, screen = notepad
    screen.type_text("some notes")
    save_as_by_clicks(screen)
    assert env.state()["dialog"] == "Save As"
    assert env.state()["focus"] == "file_name"
    screen.type_text("notes.txt")
    screen.click(*screen.element_center("Save", role="button"))
    state = env.state()
    assert state["files"] == {"notes.txt": "some notes"}
    assert state["title"] == "notes.txt - Notepad"
    assert state["status"] == "Saved notes.txt"
    assert state["dialog"] is None and state["focus"] == "text_area"


def test_ctrl_s_asks_for_a_name_once_then_saves_in_place(
    notepad: tuple[Environment, MockScreen],
) -> None:
    env, screen = notepad
    screen.type_text("v1")
    screen.hotkey("ctrl", "s")
    assert env.state()["dialog"] == "Save As"
    screen.type_text("a.txt\n")  # Enter in the field = Save
    assert env.state()["files"] == {"a.txt": "v1"}
    screen.type_text(" v2")
    screen.hotkey("ctrl", "s")
    assert env.state()["dialog"] is None
    assert env.state()["files"] == {"a.txt": "v1 v2"}


def test_cancel_and_esc_close_the_dialog_without_saving(
    notepad: tuple[Environment, MockScreen],
) -> None:
    env, screen = notepad
    save_as_by_clicks(screen)
    screen.type_text("nope.txt")
    screen.click(*screen.element_center("Cancel"))
    assert env.state()["dialog"] is None and env.state()["files"] == {}
    screen.hotkey("ctrl", "shift", "s")
    assert env.state()["dialog"] == "Save As"
    screen.press("esc")
    state = env.state()
    assert state["dialog"] is None and state["files"] == {}
    assert state["title"] == "Untitled - Notepad"


def test_dialog_is_modal(notepad: tuple[Environment, MockScreen]) -> None:
    env, screen = notepad
    file_menu = screen.element_center("File")
    save_as_by_clicks(screen)
    screen.click(*file_menu)
    assert env.state()["menu"] is None and env.state()["dialog"] == "Save As"


def test_edit_menu_hotkeys_new_and_about(notepad: tuple[Environment, MockScreen]) -> None:
    env, screen = notepad
    screen.type_text("abc")
    screen.hotkey("ctrl", "a")
    assert env.state()["selection"] == "abc"
    screen.click(*screen.element_center("Edit"))
    screen.click(*screen.element_center("Clear"))
    assert env.state()["text"] == ""
    screen.type_text("x")
    screen.hotkey("ctrl", "n")
    assert env.state()["text"] == "" and env.state()["title"] == "Untitled - Notepad"
    screen.click(*screen.element_center("Help"))
    screen.click(*screen.element_center("About"))
    assert env.state()["dialog"] == "About Notepad"
    screen.click(*screen.element_center("OK"))
    assert env.state()["dialog"] is None


def test_exit_closes_the_window(notepad: tuple[Environment, MockScreen]) -> None:
    env, screen = notepad
    screen.click(*screen.element_center("File"))
    screen.click(*screen.element_center("Exit"))
    assert env.state()["running"] is False
    assert env.notes()
    with pytest.raises(LookupError):
        screen.find("File")


def test_text_is_legible_to_ocr(notepad: tuple[Environment, MockScreen], tmp_path: Path) -> None:
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        pytest.fail("tesseract not found: install tesseract-ocr (apt-get install tesseract-ocr)")
    _, screen = notepad
    screen.type_text("Hello from Cradle")
    image_path = tmp_path / "notepad.png"
    screen.capture().save(image_path)
    result = subprocess.run(
        [tesseract, str(image_path), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        check=True,
    )
    assert "hello from cradle" in result.stdout.lower(), result.stdout


def test_size_option_and_initial_text() -> None:
    env = load_environment("mock-notepad", size="800x600", text="preset")
    screen = env.start()
    assert screen.geometry.capture_size == (800, 600)
    assert screen.capture().size == (800, 600)
    assert env.state()["text"] == "preset"
    env.close()
