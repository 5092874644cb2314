"""Dialogs and typing on a display with no window manager (Xvfb), as the shipped suite meets them.

Without a window manager a new dialog never gets the keyboard: the focus keeper gives it, as a
window manager would, and takes it back when the dialog closes, without telling the model that
focus was "lost". Tooltips carry the app's title in GTK; they must not be mistaken for dialogs.
Characters that pyautogui types wrongly on X11 ('<' arrives as '>') reach the app intact.
"""

from __future__ import annotations

import shlex
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cradle.environment import load_environment
from cradle.screen import x11
from cradle.screen.compose import episode_screen
from environments.desktop.focus import FocusKeeper


def _wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


class FakeX:
    """The x11 functions the keeper calls, over a made-up set of windows."""

    def __init__(
        self,
        focused: int | None,
        stack: list[int],
        popups: frozenset[int] = frozenset(),
        names: dict[int, str] | None = None,
    ) -> None:
        self.focused, self.stack, self.popups = focused, stack, set(popups)
        self.names = names or {}
        self.focus_calls: list[int] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(x11, "focused_window", lambda: self.focused)
        monkeypatch.setattr(x11, "window_pid", lambda w: 7 if w in self.stack else None)
        monkeypatch.setattr(x11, "app_windows", lambda pid: list(self.stack))
        monkeypatch.setattr(x11, "is_popup", lambda w: w in self.popups)
        monkeypatch.setattr(x11, "window_name", lambda w: self.names.get(w, ""))
        monkeypatch.setattr(x11, "focus", self._focus)

    def _focus(self, window: int) -> bool:
        self.focus_calls.append(window)
        self.focused = window
        return True


def test_a_dialog_on_top_gets_the_keyboard_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeX(focused=10, stack=[10, 20], names={10: "Editor", 20: "Find"})
    fake.install(monkeypatch)
    keeper = FocusKeeper(10, "Editor")
    assert keeper.ensure() is None and fake.focus_calls == [20]
    assert keeper.ensure() is None and fake.focus_calls == [20]  # it has it now
    assert keeper.drain() == []


def test_a_tooltip_named_like_the_app_is_not_a_dialog(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeX(focused=10, stack=[10, 30], popups={30}, names={10: "calc", 30: "calc"})
    fake.install(monkeypatch)
    assert FocusKeeper(10, "calc").ensure() is None
    assert fake.focus_calls == []


def test_focus_left_on_the_root_after_a_dialog_is_taken_back_silently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeX(focused=1293, stack=[10], names={10: "Editor"})  # the root: no name, no pid
    fake.install(monkeypatch)
    keeper = FocusKeeper(10, "Editor")
    assert keeper.ensure() is None and fake.focus_calls == [10] and keeper.drain() == []


def test_focus_taken_by_another_app_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeX(focused=99, stack=[10, 20], names={10: "Editor", 20: "Find", 99: "intruder"})
    fake.install(monkeypatch)
    keeper = FocusKeeper(10, "Editor")
    note = keeper.ensure()
    assert fake.focus_calls == [20]  # back to the app's dialog, which was on top
    assert note == "focus was lost to window 'intruder'; refocused 'Editor'"


@pytest.mark.desktop
def test_keys_go_to_a_non_modal_dialog_and_back_to_the_editor(
    desktop_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("mousepad") is None:
        pytest.fail("mousepad is missing (tests/run.sh installs tests/debian-packages.txt)")
    for name, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache")):
        monkeypatch.setenv(name, str(tmp_path / sub))
    document = tmp_path / "colours.txt"
    document.write_text("colour\n")
    env = load_environment(
        "desktop",
        launch=f"mousepad {shlex.quote(str(document))}",
        window_title="colours.txt",
        ocr=False,
        marks=False,
        crop=False,
    )
    screen = episode_screen(env.start(), keep_focus=env.focus_keeper())  # as an episode
    try:
        screen.hotkey("ctrl", "r")  # Find and Replace: a dialog that is not modal
        _wait_for(lambda: x11.find_windows("^Find and Replace$"))
        assert env.notes() == []  # the dialog got the keyboard, and that is no news
        screen.type_text("zzz")  # into the dialog's search field, not the document
        screen.press("esc")
        _wait_for(lambda: not x11.find_windows("^Find and Replace$"))
        time.sleep(0.4)  # past the keeper's rate limit, so the next input checks focus
        assert env.notes() == []
        screen.type_text("ok ")
        screen.hotkey("ctrl", "s")
        _wait_for(lambda: document.read_text() != "colour\n")
        assert document.read_text() == "ok colour\n"
    finally:
        env.close()


@pytest.mark.desktop
def test_characters_pyautogui_mistypes_arrive_intact(
    desktop_env: dict[str, str], tmp_path: Path
) -> None:
    title = "cradle-typing"
    env = load_environment(
        "desktop", launch=f"xterm -title {title} -e sh", window_title=title, ocr=False, marks=False
    )
    screen = episode_screen(env.start(), keep_focus=env.focus_keeper())  # as an episode
    target = tmp_path / "typed.txt"
    try:
        screen.type_text(f"echo 'a<b>(c)' > {target}\n")
        _wait_for(target.exists)
        _wait_for(lambda: target.read_text() == "a<b>(c)\n", timeout=5)
    finally:
        env.close()
