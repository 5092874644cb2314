"""The mock toolkit and MockScreen: editing, menus, modality, mouse selection, determinism."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from cradle.errors import EnvironmentFailure
from cradle.screen.base import Screen
from cradle.screen.mock import (
    Button,
    Dialog,
    MenuBar,
    MockScreen,
    TextArea,
    TextField,
    Window,
    centered,
)
from cradle.screen.mock.fonts import text_width


@dataclass
class Demo:
    """A one-window app exercising every widget, recording what its actions did."""

    screen: MockScreen
    window: Window
    field: TextField
    area: TextArea
    events: list[str] = field(default_factory=list)

    def open_dialog(self) -> Dialog:
        dialog = Dialog(centered(self.screen.size, 300, 160), "Confirm")
        dialog.on_cancel = lambda: self.close(dialog, "cancel")
        x0, _, x1, y1 = dialog.rect
        dialog.default_button = dialog.add(
            Button((x1 - 110, y1 - 50, x1 - 20, y1 - 16), "OK", lambda: self.close(dialog, "ok"))
        )
        return self.screen.open_dialog(dialog)

    def close(self, dialog: Dialog, why: str) -> None:
        self.events.append(why)
        self.screen.close_dialog(dialog)


def make_demo(size: tuple[int, int] = (640, 480)) -> Demo:
    screen = MockScreen(size)
    window = screen.add_window(Window((10, 10, 630, 470), "Demo"))
    left, top, right, bottom = window.client_rect
    bar = window.add(MenuBar((left, top, right, top + MenuBar.HEIGHT)))
    text_field = window.add(TextField((left + 10, top + 40, right - 10, top + 74), name="field"))
    area = window.add(TextArea((left + 10, top + 84, right - 10, bottom - 60), name="area"))
    demo = Demo(screen, window, text_field, area)
    bar.add_menu(
        "Tools",
        [
            ("Ping", lambda: demo.events.append("ping"), ""),
            ("Dialog", lambda: demo.open_dialog() and None, ""),
        ],
    )
    window.add(
        Button(
            (left + 10, bottom - 50, left + 110, bottom - 16),
            "Go",
            lambda: demo.events.append("go"),
        )
    )
    screen.set_focus(text_field)
    return demo


def test_mock_screen_implements_the_screen_contract() -> None:
    screen = MockScreen()
    assert isinstance(screen, Screen)
    assert screen.geometry.capture_size == (1024, 768)
    assert screen.geometry.origin == (0, 0) and screen.geometry.scale == 1.0
    image = screen.capture()
    assert image.mode == "RGB" and image.size == (1024, 768)


def test_text_field_typing_backspace_and_caret_keys() -> None:
    demo = make_demo()
    screen, text_field = demo.screen, demo.field
    screen.type_text("helo")
    screen.press("left")
    screen.type_text("l")
    assert text_field.text == "hello" and text_field.caret == 4
    screen.press("end")
    screen.press("backspace")
    assert text_field.text == "hell"
    screen.press("home")
    screen.press("delete")
    assert text_field.text == "ell" and text_field.caret == 0
    screen.hotkey("shift", "h")
    assert text_field.text == "Hell"


def test_select_all_then_typing_replaces() -> None:
    demo = make_demo()
    demo.screen.type_text("old value")
    demo.screen.hotkey("ctrl", "a")
    assert demo.field.selected_text() == "old value"
    demo.screen.type_text("new")
    assert demo.field.text == "new"


def test_text_area_newlines_and_scrolling() -> None:
    demo = make_demo()
    screen, area = demo.screen, demo.area
    screen.click(*area.center)
    assert screen.focus is area
    lines = [f"line {i}" for i in range(40)]
    screen.type_text("\n".join(lines))
    assert area.text.split("\n") == lines
    assert len(area.lines) == 40 > area.rows_visible
    assert area.top == 40 - area.rows_visible  # scrolled to keep the caret in view
    screen.scroll(5, *area.center)
    assert area.top == 40 - area.rows_visible - 15
    screen.scroll(100)  # at the pointer, still over the area
    assert area.top == 0
    screen.press("up")
    assert area.text[area.caret - 1] == "8"  # caret moved from line 39 to line 38


def test_menu_opens_on_click_and_closes_on_item_or_elsewhere() -> None:
    demo = make_demo()
    screen = demo.screen
    with pytest.raises(LookupError):
        screen.find("Ping")
    screen.click(*screen.element_center("Tools"))
    assert screen.open_menu is not None
    screen.click(*screen.element_center("Ping"))
    assert demo.events == ["ping"] and screen.open_menu is None
    screen.click(*screen.element_center("Tools"))
    go = screen.find("Go")
    screen.click(*go.center)  # a click elsewhere only closes the menu
    assert screen.open_menu is None and demo.events == ["ping"]
    screen.click(*go.center)
    assert demo.events == ["ping", "go"]


def test_modal_dialog_blocks_clicks_outside_and_esc_cancels() -> None:
    demo = make_demo()
    screen = demo.screen
    screen.click(*screen.element_center("Tools"))
    screen.click(*screen.element_center("Dialog"))
    assert [d.title for d in screen.dialogs] == ["Confirm"]
    go = next(w for w in demo.window.walk() if w.label == "Go")
    screen.click(*go.center)
    screen.type_text("typed")
    screen.hotkey("ctrl", "a")
    assert demo.events == [] and demo.field.text == ""
    screen.press("escape")
    assert demo.events == ["cancel"] and not screen.dialogs
    assert screen.focus is demo.field  # focus returns to where it was


def test_dialog_default_button_on_enter_and_click() -> None:
    demo = make_demo()
    demo.open_dialog()
    demo.screen.press("enter")
    demo.open_dialog()
    demo.screen.click(*demo.screen.element_center("OK"))
    assert demo.events == ["ok", "ok"]


def test_double_click_selects_a_word_and_typing_replaces_it() -> None:
    demo = make_demo()
    screen, area = demo.screen, demo.area
    screen.click(*area.center)
    screen.type_text("alpha beta gamma")
    x0, y0, _, _ = area.rect
    start = area.text.index("beta")
    x = x0 + area.PAD + round(text_width(area.text[: start + 2]))
    screen.click(x, y0 + area.PAD + 10, clicks=2)
    assert area.selected_text() == "beta"
    screen.type_text("BETA")
    assert area.text == "alpha BETA gamma"


def test_drag_selects_a_range() -> None:
    demo = make_demo()
    screen, area = demo.screen, demo.area
    screen.click(*area.center)
    screen.type_text("first line\nsecond line\nthird line")
    x0, y0, _, _ = area.rect
    row_y = [y0 + area.PAD + area.line_height * r + area.line_height // 2 for r in range(3)]
    screen.drag(x0 + area.PAD, row_y[0], x0 + 400, row_y[1])
    assert area.selected_text() == "first line\nsecond line"
    screen.press("backspace")
    assert area.text == "\nthird line"


def test_clipboard_copy_paste() -> None:
    demo = make_demo()
    demo.screen.type_text("copy me")
    demo.screen.hotkey("ctrl", "a")
    demo.screen.hotkey("ctrl", "c")
    demo.screen.click(*demo.area.center)
    demo.screen.hotkey("ctrl", "v")
    assert demo.area.text == "copy me"


def _scripted_run(text: str) -> bytes:
    demo = make_demo()
    screen = demo.screen
    screen.type_text(text)
    screen.click(*demo.area.center)
    screen.type_text(text + "\nmore text")
    screen.drag(60, 160, 200, 190)
    screen.click(*screen.element_center("Tools"))
    return screen.capture().tobytes()


def test_same_inputs_give_identical_pixels_and_different_text_differs() -> None:
    assert _scripted_run("hello") == _scripted_run("hello")
    assert _scripted_run("hello") != _scripted_run("hellO")


def test_widget_listing_and_lookup() -> None:
    demo = make_demo()
    listed = {info.label: info for info in demo.screen.widgets()}
    assert listed["Go"].role == "button"
    assert listed["Go"].center == demo.screen.element_center("go")
    assert listed["Demo"].role == "window"
    assert "button" in demo.screen.describe()
    with pytest.raises(LookupError, match="Go"):
        demo.screen.find("Nope")


def test_closed_screen_refuses_input() -> None:
    screen = make_demo().screen
    screen.close()
    screen.release_all()  # never raises
    with pytest.raises(EnvironmentFailure):
        screen.capture()


def test_double_click_in_a_text_field_selects_the_word() -> None:
    demo = make_demo()
    screen, text_field = demo.screen, demo.field
    screen.type_text("save report now")
    x0, y0, _, y1 = text_field.rect
    x = x0 + text_field.PAD + round(text_width("save rep"))
    screen.click(x, (y0 + y1) // 2, clicks=2)
    assert text_field.selected_text() == "report"
    screen.type_text("notes")
    assert text_field.text == "save notes now"


def test_keyboard_menu_access_and_tab_focus() -> None:
    demo = make_demo()
    screen = demo.screen
    screen.hotkey("alt", "t")
    assert screen.open_menu is not None and screen.open_menu.label == "Tools"
    screen.press("enter")  # the first item is highlighted
    assert demo.events == ["ping"] and screen.open_menu is None
    screen.press("tab")
    assert screen.focus is demo.area
    screen.hotkey("shift", "tab")
    assert screen.focus is demo.field
