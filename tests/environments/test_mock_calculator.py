"""mock-calculator through its screen: buttons and keyboard reach the same calculator."""

from __future__ import annotations

import pytest

from cradle.environment import Environment, load_environment
from cradle.screen.mock import MockScreen


@pytest.fixture
def calc() -> tuple[Environment, MockScreen]:
    env = load_environment("mock-calculator")
    screen = env.start()
    assert isinstance(screen, MockScreen)
    return env, screen


def click_keys(screen: MockScreen, keys: str) -> None:
    for key in keys:
        screen.click(*screen.element_center(key, role="button"))


def test_starts_at_zero(calc: tuple[Environment, MockScreen]) -> None:
    env, _ = calc
    assert env.state()["display"] == "0"
    assert env.state()["title"] == "Calculator"


def test_sum_by_clicks(calc: tuple[Environment, MockScreen]) -> None:
    env, screen = calc
    click_keys(screen, "12+7=")
    assert env.state()["display"] == "19"


def test_sum_by_keyboard(calc: tuple[Environment, MockScreen]) -> None:
    env, screen = calc
    screen.type_text("12+7")
    assert env.state()["display"] == "12+7"
    screen.press("enter")
    assert env.state()["display"] == "19"
    screen.type_text("2*3+4=")
    assert env.state()["display"] == "10"  # a digit after a result starts afresh


@pytest.mark.parametrize(
    ("keys", "shown"),
    [("7/2=", "3.5"), ("2+3*4=", "14"), ("0.1+0.2=", "0.3"), ("5-8=", "-3"), ("6/3=", "2")],
)
def test_results(calc: tuple[Environment, MockScreen], keys: str, shown: str) -> None:
    env, screen = calc
    screen.type_text(keys)
    assert env.state()["display"] == shown


def test_division_by_zero_shows_error(calc: tuple[Environment, MockScreen]) -> None:
    env, screen = calc
    click_keys(screen, "8/0=")
    assert env.state()["display"] == "Error"
    click_keys(screen, "3")
    assert env.state()["display"] == "3"


def test_clear_and_backspace(calc: tuple[Environment, MockScreen]) -> None:
    env, screen = calc
    click_keys(screen, "123")
    screen.click(*screen.element_center("DEL"))
    assert env.state()["display"] == "12"
    screen.press("backspace")
    assert env.state()["display"] == "1"
    click_keys(screen, "C")
    assert env.state()["display"] == "0"
    screen.type_text("45")
    screen.press("esc")
    assert env.state()["display"] == "0"


def test_display_pixels_follow_the_value(calc: tuple[Environment, MockScreen]) -> None:
    _, screen = calc
    first = screen.capture().tobytes()
    screen.type_text("9")
    assert screen.capture().tobytes() != first
    screen.press("c")
    assert screen.capture().tobytes() == first
