"""A tiny widget toolkit for the mocked screen: plain classes that paint themselves with Pillow.

Widgets use absolute screen coordinates (``rect`` is ``(x0, y0, x1, y1)``, x1/y1 exclusive),
so tests and demos can read where a button is without any layout engine. ``MockScreen`` owns
the windows and routes input; widgets only react to what they are given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeVar

from PIL import Image, ImageDraw

from cradle.screen.mock.fonts import BODY_SIZE, fit_count, font, text_width

Rect = tuple[int, int, int, int]
Point = tuple[int, int]
Color = tuple[int, int, int]
Action = Callable[[], None]
Align = Literal["left", "center", "right"]
W = TypeVar("W", bound="Widget")

# A light theme: dark text on light backgrounds keeps every capture legible for OCR.
DESKTOP: Color = (222, 226, 232)
WINDOW_BG: Color = (243, 243, 243)
FRAME: Color = (128, 128, 128)
TITLE_BG: Color = (255, 255, 255)
TEXT: Color = (20, 20, 20)
MUTED: Color = (90, 90, 90)
FIELD_BG: Color = (255, 255, 255)
FIELD_BORDER: Color = (122, 122, 122)
ACCENT: Color = (0, 103, 192)
HIGHLIGHT: Color = (204, 228, 247)
SELECTION: Color = (173, 214, 255)
BUTTON_BG: Color = (225, 225, 225)
BUTTON_PRESSED: Color = (204, 228, 247)
SCROLL_TRACK: Color = (236, 236, 236)
SCROLL_THUMB: Color = (170, 170, 170)

MODIFIER_ORDER = ("ctrl", "alt", "shift")


@dataclass(frozen=True)
class KeyPress:
    """One key press after modifiers are folded in: ``KeyPress('s', {'ctrl'})`` is ctrl+s.

    A printable character typed without ctrl/alt arrives as ``key`` itself ('a', 'A', '+', ' ')
    with no modifiers; named keys ('enter', 'left') keep their modifiers (shift+left).
    """

    key: str
    mods: frozenset[str] = field(default_factory=frozenset)

    @property
    def char(self) -> str | None:
        """The character to insert, when this press types one."""
        return self.key if len(self.key) == 1 and not self.mods else None

    @property
    def chord(self) -> str:
        """Canonical name such as 'ctrl+shift+s', used as the key of hotkey tables."""
        key = self.key.lower() if self.mods & {"ctrl", "alt"} else self.key
        return "+".join([m for m in MODIFIER_ORDER if m in self.mods] + [key])


@dataclass
class Canvas:
    """What a widget needs to paint itself: the image, and the input state that changes looks."""

    image: Image.Image
    draw: ImageDraw.ImageDraw
    focus: Widget | None = None
    pressed: Widget | None = None


def slug(text: str) -> str:
    """A stable widget name from a label: 'Save As...' -> 'save_as'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def draw_text(
    canvas: Canvas,
    rect: Rect,
    text: str,
    *,
    size: int = BODY_SIZE,
    color: Color = TEXT,
    align: Align = "left",
    pad: int = 6,
) -> None:
    """Draw one line of text vertically centred in ``rect``, cut to what fits (no overflow)."""
    x0, y0, x1, y1 = rect
    room = x1 - x0 - 2 * pad
    if align == "right":
        # Numbers keep their last digits visible, like a calculator display.
        while text and text_width(text, size) > room:
            text = text[1:]
    else:
        text = text[: fit_count(text, room, size)]
    if not text:
        return
    width = text_width(text, size)
    x = {"left": x0 + pad, "center": (x0 + x1 - width) / 2, "right": x1 - pad - width}[align]
    canvas.draw.text((round(x), (y0 + y1) // 2), text, font=font(size), fill=color, anchor="lm")


def box(canvas: Canvas, rect: Rect, fill: Color | None, outline: Color | None = None) -> None:
    """A filled rectangle with an optional 1 px border inside ``rect``."""
    x0, y0, x1, y1 = rect
    canvas.draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill, outline=outline)


class Widget:
    """Base of everything on the mocked screen: a rectangle with a label and children."""

    role: ClassVar[str] = "widget"
    focusable: ClassVar[bool] = False

    def __init__(self, rect: Rect, *, label: str = "", name: str = "") -> None:
        self.rect = rect
        self.label = label
        self.name = name or slug(label) or self.role
        self.visible = True
        self.parent: Widget | None = None
        self.children: list[Widget] = []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.rect}>"

    def add(self, child: W) -> W:
        """Attach ``child`` (drawn after, hence above, earlier children)."""
        child.parent = self
        self.children.append(child)
        return child

    @property
    def center(self) -> Point:
        """The point to click to hit this widget."""
        x0, y0, x1, y1 = self.rect
        return (x0 + x1) // 2, (y0 + y1) // 2

    def contains(self, x: int, y: int) -> bool:
        x0, y0, x1, y1 = self.rect
        return x0 <= x < x1 and y0 <= y < y1

    def walk(self) -> Iterator[Widget]:
        """This widget and its visible descendants, in drawing order."""
        yield self
        for child in self.children:
            if child.visible:
                yield from child.walk()

    def widget_at(self, x: int, y: int) -> Widget | None:
        """The topmost visible widget under (x, y) in this subtree."""
        if not self.visible or not self.contains(x, y):
            return None
        for child in reversed(self.children):
            hit = child.widget_at(x, y)
            if hit is not None:
                return hit
        return self

    def window(self) -> Window | None:
        """The window this widget lives in."""
        node: Widget | None = self
        while node is not None and not isinstance(node, Window):
            node = node.parent
        return node

    def draw(self, canvas: Canvas) -> None:
        """Paint this widget, then its visible children on top."""
        self.paint(canvas)
        for child in self.children:
            if child.visible:
                child.draw(canvas)

    # Hooks: subclasses override what they react to. -----------------------------------

    def paint(self, canvas: Canvas) -> None:
        """Draw this widget alone."""

    def mouse_down(self, x: int, y: int, clicks: int) -> None:
        """Left button pressed here; ``clicks`` is 2 for the second press of a double click."""

    def mouse_drag(self, x: int, y: int) -> None:
        """Pointer moved while the button pressed on this widget is held."""

    def mouse_up(self, x: int, y: int) -> None:
        """Button released after a press on this widget (x, y may be outside it)."""

    def key(self, press: KeyPress) -> bool:
        """Handle a key while focused; False lets the window and the app see it."""
        return False

    def scroll(self, amount: int) -> bool:
        """Handle a wheel turn (positive is up); False passes it to the parent."""
        return False


class Label(Widget):
    """Static text."""

    role = "label"

    def __init__(
        self,
        rect: Rect,
        text: str,
        *,
        name: str = "",
        size: int = BODY_SIZE,
        align: Align = "left",
        color: Color = TEXT,
    ) -> None:
        super().__init__(rect, label=text, name=name)
        self.size, self.align, self.color = size, align, color

    @property
    def text(self) -> str:
        return self.label

    @text.setter
    def text(self, value: str) -> None:
        self.label = value

    def paint(self, canvas: Canvas) -> None:
        draw_text(
            canvas, self.rect, self.label, size=self.size, align=self.align, color=self.color, pad=8
        )


class StatusBar(Label):
    """The strip at the bottom of a window that reports what just happened."""

    role = "status"

    def __init__(self, rect: Rect, text: str = "", *, name: str = "status") -> None:
        super().__init__(rect, text, name=name)

    def paint(self, canvas: Canvas) -> None:
        box(canvas, self.rect, WINDOW_BG)
        x0, y0, x1, _ = self.rect
        canvas.draw.line((x0, y0, x1 - 1, y0), fill=(200, 200, 200))
        super().paint(canvas)


class Button(Widget):
    """A push button: runs ``on_click`` when the press and the release are both on it."""

    role = "button"

    def __init__(
        self,
        rect: Rect,
        label: str,
        on_click: Action | None = None,
        *,
        name: str = "",
        size: int = BODY_SIZE,
        default: bool = False,
        fill: Color = BUTTON_BG,
    ) -> None:
        super().__init__(rect, label=label, name=name)
        self.on_click = on_click
        self.size, self.default, self.fill = size, default, fill

    def press(self) -> None:
        """Activate the button as a click would (Enter on a dialog's default button)."""
        if self.on_click is not None:
            self.on_click()

    def mouse_up(self, x: int, y: int) -> None:
        if self.contains(x, y):
            self.press()

    def paint(self, canvas: Canvas) -> None:
        fill = BUTTON_PRESSED if canvas.pressed is self else self.fill
        box(canvas, self.rect, fill, ACCENT if self.default else FIELD_BORDER)
        if self.default:
            x0, y0, x1, y1 = self.rect
            box(canvas, (x0 + 1, y0 + 1, x1 - 1, y1 - 1), None, ACCENT)
        draw_text(canvas, self.rect, self.label, size=self.size, align="center", pad=4)


class Window(Widget):
    """A framed window with a title bar; ``modal`` windows block input to those below."""

    role = "window"
    modal: ClassVar[bool] = False
    TITLE_HEIGHT: ClassVar[int] = 32

    def __init__(self, rect: Rect, title: str, *, name: str = "") -> None:
        super().__init__(rect, label=title, name=name or "window")
        self.on_key: Callable[[KeyPress], bool] | None = None
        """App-level key handler for keys no focused widget took (a calculator's digits)."""

    @property
    def title(self) -> str:
        return self.label

    @title.setter
    def title(self, value: str) -> None:
        self.label = value

    @property
    def title_rect(self) -> Rect:
        x0, y0, x1, _ = self.rect
        return x0 + 1, y0 + 1, x1 - 1, y0 + 1 + self.TITLE_HEIGHT

    @property
    def client_rect(self) -> Rect:
        """The area below the title bar, inside the frame, where children go."""
        x0, _, x1, y1 = self.rect
        return x0 + 1, self.title_rect[3], x1 - 1, y1 - 1

    def focus_chain(self) -> list[Widget]:
        """Focusable widgets in tab order (drawing order)."""
        return [w for w in self.walk() if w.focusable]

    def key(self, press: KeyPress) -> bool:
        return self.on_key(press) if self.on_key is not None else False

    def paint(self, canvas: Canvas) -> None:
        box(canvas, self.rect, WINDOW_BG, FRAME)
        box(canvas, self.title_rect, TITLE_BG)
        x0, _, x1, y1 = self.title_rect
        canvas.draw.line((x0, y1 - 1, x1 - 1, y1 - 1), fill=(210, 210, 210))
        draw_text(canvas, self.title_rect, self.title, pad=12)


class Dialog(Window):
    """A modal window: Esc cancels, Enter presses the default button."""

    role = "dialog"
    modal = True

    def __init__(
        self,
        rect: Rect,
        title: str,
        *,
        on_cancel: Action | None = None,
        name: str = "",
    ) -> None:
        super().__init__(rect, title, name=name or slug(title) or "dialog")
        self.on_cancel = on_cancel
        self.default_button: Button | None = None
        self.initial_focus: Widget | None = None
        self.return_focus: Widget | None = None
        """Who had the keyboard before the dialog opened; set by ``MockScreen.open_dialog``."""

    def key(self, press: KeyPress) -> bool:
        if press.chord == "esc" and self.on_cancel is not None:
            self.on_cancel()
            return True
        if press.chord == "enter" and self.default_button is not None:
            self.default_button.press()
            return True
        return super().key(press)

    def paint(self, canvas: Canvas) -> None:
        x0, y0, x1, y1 = self.rect
        # A flat shadow offset down-right sets the dialog apart from the window below.
        box(canvas, (x0 + 4, y0 + 4, x1 + 4, y1 + 4), (170, 170, 170))
        super().paint(canvas)


def centered(size: tuple[int, int], width: int, height: int) -> Rect:
    """A ``width`` x ``height`` rectangle centred in a screen of ``size``."""
    x0 = (size[0] - width) // 2
    y0 = (size[1] - height) // 2
    return x0, y0, x0 + width, y0 + height
