"""The episode's screen wrappers: focus keeping runs before input that is sent, rate-limited;
dry-run sits outside it, so a dry run sends nothing and refocuses nothing."""

from __future__ import annotations

import pytest

from cradle.screen.compose import episode_screen
from cradle.screen.dry_run import DryRunScreen
from cradle.screen.focus import FOCUS_CHECK_SECONDS, FocusKeepingScreen
from cradle.screen.mock.screen import MockScreen


class Checks:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def test_no_wrapper_is_added_where_none_is_asked_for() -> None:
    inner = MockScreen((200, 100))
    assert episode_screen(inner) is inner


def test_focus_is_checked_before_input_at_most_once_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr("cradle.screen.focus.time.monotonic", lambda: now[0])
    checks = Checks()
    inner = MockScreen((200, 100))
    screen = episode_screen(inner, keep_focus=checks)
    assert isinstance(screen, FocusKeepingScreen) and screen.inner is inner
    screen.click(10, 10)
    screen.press("a")
    assert checks.count == 1  # the second input came within the interval
    now[0] += FOCUS_CHECK_SECONDS * 2
    screen.hotkey("ctrl", "a")
    assert checks.count == 2
    screen.capture()
    screen.release_all()
    assert checks.count == 2  # only input is guarded
    assert screen.geometry == inner.geometry


def test_a_dry_run_wraps_focus_keeping_and_sends_nothing() -> None:
    checks = Checks()
    screen = episode_screen(MockScreen((200, 100)), keep_focus=checks, dry_run=True)
    assert isinstance(screen, DryRunScreen) and isinstance(screen.inner, FocusKeepingScreen)
    screen.click(5, 5)
    screen.type_text("x")
    assert checks.count == 0 and len(screen.suppressed) == 2
