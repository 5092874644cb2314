"""A deterministic mocked screen with a small Pillow-drawn widget toolkit.

Mocked environments (``environments/mock_*``) build their apps from these widgets, so the
agent loop, skills and tests can run with no display and get byte-identical screenshots.
"""

from cradle.screen.mock.menus import MenuBar, MenuItem, MenuPopup, MenuTitle
from cradle.screen.mock.screen import MockScreen, WidgetInfo, parse_size
from cradle.screen.mock.text import TextArea, TextEditor, TextField
from cradle.screen.mock.toolkit import (
    Button,
    Canvas,
    Dialog,
    KeyPress,
    Label,
    StatusBar,
    Widget,
    Window,
    centered,
)

__all__ = [
    "Button",
    "Canvas",
    "Dialog",
    "KeyPress",
    "Label",
    "MenuBar",
    "MenuItem",
    "MenuPopup",
    "MenuTitle",
    "MockScreen",
    "StatusBar",
    "TextArea",
    "TextEditor",
    "TextField",
    "Widget",
    "WidgetInfo",
    "Window",
    "centered",
    "parse_size",
]
