"""Events of a person -> skill calls: every merging rule, on hand-made event sequences."""

from __future__ import annotations

from cradle.playback.demo_merge import (
    DemoMerger,
    KeyEvent,
    MouseEvent,
    ScrollEvent,
    merge_events,
)


def click(
    t: float,
    x: int,
    y: int,
    button: str = "left",
    up_dt: float = 0.05,
    to: tuple[int, int] | None = None,
) -> list:
    ex, ey = to or (x, y)
    return [MouseEvent(t, x, y, button, True), MouseEvent(t + up_dt, ex, ey, button, False)]


def keys(t: float, *names: str) -> list:
    """Each key pressed and released in turn, 0.05 s apart."""
    out = []
    for i, name in enumerate(names):
        out += [KeyEvent(t + i * 0.05, name, True), KeyEvent(t + i * 0.05 + 0.02, name, False)]
    return out


def chord(t: float, *names: str) -> list:
    """Keys pressed in order, released in reverse."""
    down = [KeyEvent(t + i * 0.01, n, True) for i, n in enumerate(names)]
    up = [KeyEvent(t + 0.1 + i * 0.01, n, False) for i, n in enumerate(reversed(names))]
    return down + up


def rendered(events: list, **options) -> list[str]:
    return [a.render() for a in merge_events(events, **options)]


def test_single_click() -> None:
    assert rendered(click(1.0, 55, 64)) == ["click(x=55, y=64)"]


def test_click_with_a_little_jitter_is_still_a_click() -> None:
    assert rendered(click(1.0, 55, 64, to=(57, 66))) == ["click(x=55, y=64)"]


def test_two_quick_clicks_are_a_double_click() -> None:
    events = click(1.0, 200, 300) + click(1.2, 201, 300)
    assert rendered(events) == ["double_click(x=200, y=300)"]


def test_two_slow_clicks_stay_two_clicks() -> None:
    events = click(1.0, 200, 300) + click(2.0, 200, 300)
    assert rendered(events) == ["click(x=200, y=300)", "click(x=200, y=300)"]


def test_two_quick_clicks_far_apart_stay_two_clicks() -> None:
    events = click(1.0, 200, 300) + click(1.2, 400, 300)
    assert rendered(events) == ["click(x=200, y=300)", "click(x=400, y=300)"]


def test_triple_click_is_double_then_single() -> None:
    events = click(1.0, 10, 10) + click(1.2, 10, 10) + click(1.4, 10, 10)
    assert rendered(events) == ["double_click(x=10, y=10)", "click(x=10, y=10)"]


def test_right_click() -> None:
    assert rendered(click(1.0, 5, 6, "right")) == ["right_click(x=5, y=6)"]


def test_middle_click_is_dropped() -> None:
    assert rendered(click(1.0, 5, 6, "middle")) == []


def test_drag() -> None:
    events = click(1.0, 100, 100, to=(300, 250), up_dt=0.5)
    assert rendered(events) == ["drag(x1=100, y1=100, x2=300, y2=250)"]


def test_release_without_press_is_ignored() -> None:
    assert rendered([MouseEvent(1.0, 5, 5, "left", False)]) == []


def test_scrolls_at_one_place_are_summed() -> None:
    events = [ScrollEvent(1.0 + i * 0.1, 500, 400, 0, -1) for i in range(4)]
    assert rendered(events) == ["scroll(amount=-4, x=500, y=400)"]


def test_scroll_direction_change_splits() -> None:
    events = [
        ScrollEvent(1.0, 500, 400, 0, 1),
        ScrollEvent(1.1, 500, 400, 0, 1),
        ScrollEvent(1.2, 500, 400, 0, -1),
    ]
    assert rendered(events) == ["scroll(amount=2, x=500, y=400)", "scroll(amount=-1, x=500, y=400)"]


def test_slow_scrolls_split_and_horizontal_is_ignored() -> None:
    events = [
        ScrollEvent(1.0, 5, 5, 0, 1),
        ScrollEvent(3.0, 5, 5, 0, 1),
        ScrollEvent(3.1, 5, 5, 2, 0),
    ]
    assert rendered(events) == ["scroll(amount=1, x=5, y=5)", "scroll(amount=1, x=5, y=5)"]


def test_typing_is_one_type_text() -> None:
    events = keys(1.0, *"hello") + keys(1.3, "space") + keys(1.4, *"you")
    assert rendered(events) == ["type_text(text='hello you')"]


def test_shifted_characters_are_typed_and_lone_shift_ignored() -> None:
    events = [
        KeyEvent(1.0, "shift", True),
        KeyEvent(1.01, "H", True),
        KeyEvent(1.02, "H", False),
        KeyEvent(1.03, "shift", False),
    ]
    events += keys(1.1, "i", "!")
    events += keys(2.0, "shift")
    assert rendered(events) == ["type_text(text='Hi!')"]


def test_backspace_inside_typing_corrects_the_text() -> None:
    events = keys(1.0, "c", "a", "r", "backspace", "t")
    assert rendered(events) == ["type_text(text='cat')"]


def test_backspace_without_typing_is_pressed() -> None:
    assert rendered(keys(1.0, "backspace")) == ["press_key(key='backspace')"]


def test_enter_ends_the_text_and_is_pressed() -> None:
    events = keys(1.0, "h", "i", "enter")
    assert rendered(events) == ["type_text(text='hi')", "press_key(key='enter')"]


def test_aliases_are_normalized() -> None:
    assert rendered(keys(1.0, "Return", "Escape")) == [
        "press_key(key='enter')",
        "press_key(key='esc')",
    ]


def test_ctrl_chord_is_a_hotkey() -> None:
    assert rendered(chord(1.0, "ctrl", "s")) == ["hotkey('ctrl', 's')"]


def test_hotkey_letters_are_lowercase_and_modifiers_ordered() -> None:
    events = chord(1.0, "shift", "ctrl_r".replace("_r", "right"), "S")
    assert rendered(events) == ["hotkey('ctrl', 'shift', 's')"]


def test_shifted_symbol_in_chord_goes_back_to_its_key() -> None:
    assert rendered(chord(1.0, "ctrl", "shift", "!")) == ["hotkey('ctrl', 'shift', '1')"]


def test_shift_with_a_named_key_is_a_hotkey() -> None:
    assert rendered(chord(1.0, "shift", "tab")) == ["hotkey('shift', 'tab')"]


def test_lone_modifier_tap_is_a_key_press() -> None:
    assert rendered(keys(1.0, "winleft")) == ["press_key(key='winleft')"]
    assert rendered(keys(1.0, "alt")) == ["press_key(key='alt')"]


def test_modifier_used_for_a_click_is_not_pressed_again() -> None:
    events = [KeyEvent(1.0, "ctrl", True), *click(1.1, 5, 5), KeyEvent(1.3, "ctrl", False)]
    assert rendered(events) == ["click(x=5, y=5)"]


def test_stop_chord_stops_and_is_not_recorded() -> None:
    merger = DemoMerger()
    out = []
    for event in keys(1.0, "a", "b") + chord(2.0, "ctrl", "shift", "q") + keys(3.0, "z"):
        out += merger.feed(event)
    assert merger.stopped
    assert [a.render() for a in out] == ["type_text(text='ab')"]


def test_custom_stop_chord() -> None:
    merger = DemoMerger(stop_chord=("ctrl", "alt", "x"))
    for event in chord(1.0, "ctrl", "shift", "q"):
        merger.feed(event)
    assert not merger.stopped
    for event in chord(2.0, "alt", "ctrl", "x"):
        merger.feed(event)
    assert merger.stopped


def test_mixed_session_keeps_order_and_start_times() -> None:
    events = (
        keys(1.0, *"note")
        + click(2.0, 55, 64)
        + click(3.0, 165, 163)
        + keys(4.0, *"a.txt")
        + keys(5.0, "enter")
        + chord(6.0, "ctrl", "s")
    )
    actions = merge_events(events)
    assert [a.render() for a in actions] == [
        "type_text(text='note')",
        "click(x=55, y=64)",
        "click(x=165, y=163)",
        "type_text(text='a.txt')",
        "press_key(key='enter')",
        "hotkey('ctrl', 's')",
    ]
    assert [a.t for a in actions] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_pending_click_is_released_by_poll() -> None:
    merger = DemoMerger(double_click_interval=0.4)
    for event in click(1.0, 5, 5):
        assert merger.feed(event) == []
    assert merger.poll(1.2) == []
    assert [a.render() for a in merger.poll(1.5)] == ["click(x=5, y=5)"]


def test_coordinates_are_mapped_to_the_model_image() -> None:
    action = merge_events(click(1.0, 200, 100, to=(200, 100)))[0]
    halve = lambda x, y: (x // 2, y // 2)  # noqa: E731
    assert action.render(halve) == "click(x=100, y=50)"
    drag = merge_events(click(1.0, 10, 20, to=(400, 300)))[0]
    assert drag.render(halve) == "drag(x1=5, y1=10, x2=200, y2=150)"
    assert drag.points == ((10, 20), (400, 300))
