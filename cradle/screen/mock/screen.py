"""``MockScreen``: a deterministic in-memory display that routes input to toolkit widgets.

It plays the window manager: it stacks windows (modal dialogs on top), draws the one open
drop-down menu above everything, keeps the pointer, the keyboard focus and a clipboard, and
turns the ``Screen`` primitives into widget events. Captures depend only on the inputs given,
so the same sequence always yields byte-identical pixels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from cradle.errors import ConfigError, EnvironmentFailure
from cradle.screen.base import MouseButton, Screen, ScreenGeometry, normalize_key
from cradle.screen.mock.menus import MenuItem, MenuPopup, MenuTitle
from cradle.screen.mock.text import TextEditor
from cradle.screen.mock.toolkit import (
    DESKTOP,
    Action,
    Canvas,
    Color,
    Dialog,
    KeyPress,
    Point,
    Rect,
    Widget,
    Window,
)

MODIFIERS = {
    "ctrl",
    "alt",
    "shift",
    "command",
    "option",
    "winleft",
    "winright",
    "fn",
    "ctrlleft",
    "ctrlright",
    "shiftleft",
    "shiftright",
    "altleft",
    "altright",
}
MODIFIER_NAMES = {
    "command": "ctrl",
    "ctrlleft": "ctrl",
    "ctrlright": "ctrl",
    "option": "alt",
    "altleft": "alt",
    "altright": "alt",
    "shiftleft": "shift",
    "shiftright": "shift",
}
"""Folded so an agent used to macOS (cmd+s) or left/right key names still hits the hotkey."""
SHIFTED = dict(zip("`1234567890-=[]\\;',./", '~!@#$%^&*()_+{}|:"<>?', strict=True))
"""US layout: what shift+key types, so hotkey('shift', '8') gives '*'."""
TYPED_KEYS = {"space": " ", "\n": "enter", "\r": "enter", "\t": "tab"}


DEFAULT_SIZE = (1024, 768)


def parse_size(
    options: Mapping[str, Any], default: tuple[int, int] = DEFAULT_SIZE
) -> tuple[int, int]:
    """Screen size from environment options: ``size="800x600"``, ``size=(800, 600)`` or
    ``width=800, height=600`` (strings allowed, as they come from the command line)."""
    try:
        size = options.get("size")
        if isinstance(size, str):
            width, height = (int(part) for part in size.lower().split("x"))
        elif size is not None:
            width, height = (int(part) for part in size)
        else:
            width = int(options.get("width", default[0]))
            height = int(options.get("height", default[1]))
    except (TypeError, ValueError) as exc:
        given = {k: options[k] for k in ("size", "width", "height") if k in options}
        raise ConfigError(f"bad screen size {given!r}: use size=1024x768") from exc
    if width < 320 or height < 240:
        raise ConfigError(f"screen size {width}x{height} is too small; use at least 320x240")
    return width, height


@dataclass(frozen=True)
class WidgetInfo:
    """One visible widget, as listed for debugging, tests and demos."""

    label: str
    role: str
    name: str
    center: Point
    rect: Rect
    focused: bool = False


class MockScreen(Screen):
    """A fake display of ``size`` pixels showing toolkit windows; no real display needed."""

    settle_interval = 0.0
    """Input redraws before it returns: one more capture only confirms the screen is still."""

    def __init__(self, size: tuple[int, int] = DEFAULT_SIZE, *, background: Color = DESKTOP):
        self.size = (int(size[0]), int(size[1]))
        self.background = background
        self.windows: list[Window] = []
        self.hotkeys: dict[str, Action] = {}
        self.focus: Widget | None = None
        self.pointer: Point = (self.size[0] // 2, self.size[1] // 2)
        self.open_menu: MenuTitle | None = None
        self.clipboard = ""
        self.closed = False
        self.log: list[str] = []
        """Every input received, in order, as short strings (for tests and debugging)."""
        self._pressed: Widget | None = None
        self.held: list[str] = []
        """Keys held down by ``key_down`` and not released yet."""

    # Window management ----------------------------------------------------------------------

    def add_window(self, window: Window) -> Window:
        """Show ``window`` on top of the others."""
        self.windows.append(window)
        return window

    def open_dialog(self, dialog: Dialog) -> Dialog:
        """Show a modal dialog and give its ``initial_focus`` (or first field) the keyboard."""
        self.close_menu()
        dialog.return_focus = self.focus
        self.windows.append(dialog)
        chain = dialog.focus_chain()
        self.focus = dialog.initial_focus or (chain[0] if chain else None)
        return dialog

    def close_dialog(self, dialog: Dialog) -> None:
        """Remove ``dialog`` and give the keyboard back to whoever had it before."""
        if dialog in self.windows:
            self.windows.remove(dialog)
            self.focus = dialog.return_focus
            if self._pressed is not None and self._pressed.window() is dialog:
                self._pressed = None

    @property
    def dialogs(self) -> list[Dialog]:
        return [w for w in self.windows if isinstance(w, Dialog) and w.visible]

    @property
    def modal(self) -> Window | None:
        """The topmost visible modal window, which swallows input meant for others."""
        for window in reversed(self.windows):
            if window.visible and window.modal:
                return window
        return None

    def add_hotkey(self, chord: str, action: Action) -> None:
        """Bind an app-wide shortcut such as 'ctrl+s' (blocked while a dialog is open)."""
        self.hotkeys[chord] = action

    def set_focus(self, widget: Widget | None) -> None:
        self.focus = widget

    def close_menu(self) -> None:
        if self.open_menu is not None:
            self.open_menu.is_open = False
            self.open_menu.popup.highlight = None
            self.open_menu = None

    def show_menu(self, title: MenuTitle) -> None:
        self.close_menu()
        title.is_open = True
        self.open_menu = title

    # Looking at widgets -----------------------------------------------------------------

    def _visible(self) -> Iterator[Widget]:
        """Every visible widget, topmost first (open menu, then windows from the top)."""
        if self.open_menu is not None:
            yield from self.open_menu.popup.items
        for window in reversed(self.windows):
            if window.visible:
                yield from window.walk()

    def widgets(self) -> list[WidgetInfo]:
        """Visible widgets with label, role and centre, topmost first."""
        return [
            WidgetInfo(w.label, w.role, w.name, w.center, w.rect, w is self.focus)
            for w in self._visible()
        ]

    def describe(self) -> str:
        """One line per visible widget, for a quick look while debugging."""
        return "\n".join(
            f"{i.role:<10} {i.label!r:<28} name={i.name} center={i.center}"
            + (" [focus]" if i.focused else "")
            for i in self.widgets()
        )

    def find(self, label: str, role: str | None = None) -> Widget:
        """The topmost visible widget whose label (or name) is ``label``; case-insensitive
        as a fallback. Raises LookupError listing what is visible."""
        candidates = [w for w in self._visible() if role is None or w.role == role]
        for match in (
            lambda w: w.label == label or w.name == label,
            lambda w: w.label.lower() == label.lower(),
        ):
            for widget in candidates:
                if match(widget):
                    return widget
        shown = ", ".join(sorted({repr(w.label) for w in candidates if w.label}))
        raise LookupError(f"no visible widget {label!r} (role={role}); visible: {shown}")

    def element_center(self, label: str, role: str | None = None) -> Point:
        """Where to click to hit the widget ``find`` returns."""
        return self.find(label, role).center

    # Screen: pixels --------------------------------------------------------------------------

    @property
    def geometry(self) -> ScreenGeometry:
        return ScreenGeometry(capture_size=self.size)

    def capture(self) -> Image.Image:
        self._check_open()
        image = Image.new("RGB", self.size, self.background)
        canvas = Canvas(image, ImageDraw.Draw(image), focus=self.focus, pressed=self._pressed)
        for window in self.windows:
            if window.visible:
                window.draw(canvas)
        if self.open_menu is not None:
            self.open_menu.popup.draw(canvas)
        return image

    # Screen: mouse ---------------------------------------------------------------------------

    def click(self, x: int, y: int, *, button: MouseButton = "left", clicks: int = 1) -> None:
        self._check_open()
        self.log.append(f"click {x},{y} {button} x{clicks}")
        for n in range(1, max(1, clicks) + 1):
            self._mouse_down(x, y, button, n)
            self._mouse_up(x, y)

    def move(self, x: int, y: int) -> None:
        self._check_open()
        self.log.append(f"move {x},{y}")
        self._move_to(x, y)

    def drag(self, x1: int, y1: int, x2: int, y2: int, *, button: MouseButton = "left") -> None:
        self._check_open()
        self.log.append(f"drag {x1},{y1} -> {x2},{y2} {button}")
        self._mouse_down(x1, y1, button, 1)
        self._move_to(x2, y2)
        self._mouse_up(x2, y2)

    def scroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        self._check_open()
        self.log.append(f"scroll {amount}" + (f" at {x},{y}" if x is not None else ""))
        if x is not None and y is not None:
            self._move_to(x, y)
        if self.open_menu is not None:
            return
        node = self._target(*self.pointer)
        while node is not None and not node.scroll(amount):
            node = node.parent

    def _clamp(self, x: int, y: int) -> Point:
        return max(0, min(int(x), self.size[0] - 1)), max(0, min(int(y), self.size[1] - 1))

    def _target(self, x: int, y: int) -> Widget | None:
        """The widget a click at (x, y) reaches: open menu first, then windows from the top."""
        if self.open_menu is not None:
            hit = self.open_menu.popup.widget_at(x, y)
            if hit is not None:
                return hit
        for window in reversed(self.windows):
            if not window.visible:
                continue
            hit = window.widget_at(x, y)
            if hit is not None or window.modal:
                return hit  # a modal window swallows clicks that miss it
        return None

    def _move_to(self, x: int, y: int) -> None:
        self.pointer = self._clamp(x, y)
        if self._pressed is not None and not isinstance(self._pressed, MenuTitle | MenuItem):
            self._pressed.mouse_drag(*self.pointer)
        if self.open_menu is not None:
            hit = self._target(*self.pointer)
            if isinstance(hit, MenuTitle) and hit is not self.open_menu:
                self.show_menu(hit)  # sliding along the menu bar switches menus
            self.open_menu.popup.hover(*self.pointer)

    def _mouse_down(self, x: int, y: int, button: MouseButton, clicks: int) -> None:
        self.pointer = self._clamp(x, y)
        target = self._target(*self.pointer)
        if self.open_menu is not None and not isinstance(target, MenuItem | MenuPopup):
            was_open = self.open_menu
            self.close_menu()
            if isinstance(target, MenuTitle) and target is not was_open and button == "left":
                self.show_menu(target)
            return  # a click outside an open menu only closes it
        if button != "left" or target is None:
            return
        if isinstance(target, MenuTitle):
            self.show_menu(target)
            return
        if target.focusable:
            self.focus = target
        self._pressed = target
        target.mouse_down(*self.pointer, clicks)

    def _mouse_up(self, x: int, y: int) -> None:
        self.pointer = self._clamp(x, y)
        pressed, self._pressed = self._pressed, None
        if self.open_menu is not None:
            hit = self._target(*self.pointer)
            if isinstance(hit, MenuItem):
                self.close_menu()
                hit.action()
            return
        if pressed is not None:
            pressed.mouse_up(*self.pointer)

    # Screen: keyboard ------------------------------------------------------------------------

    def type_text(self, text: str) -> None:
        self._check_open()
        self.log.append(f"type {text!r}")
        for char in text:
            if char == "\r":
                continue  # "\r\n" is one Enter
            name = TYPED_KEYS.get(char)
            self._key(KeyPress(name if name and len(name) > 1 else char))

    def press(self, key: str) -> None:
        self._check_open()
        self.log.append(f"press {key}")
        self.hotkey(key, _log=False)

    def hotkey(self, *keys: str, _log: bool = True) -> None:
        self._check_open()
        if _log:
            self.log.append("hotkey " + "+".join(keys))
        names = [TYPED_KEYS.get(k, k) for k in (normalize_key(k) for k in keys)]
        mods = frozenset(MODIFIER_NAMES.get(k, k) for k in names if k in MODIFIERS)
        for name in (k for k in names if k not in MODIFIERS):
            if len(name) == 1 and mods == {"shift"}:
                self._key(KeyPress(name.upper() if name.isalpha() else SHIFTED.get(name, name)))
            elif len(name) == 1 and "shift" in mods and not mods & {"ctrl", "alt"}:
                self._key(KeyPress(name))
            else:
                self._key(KeyPress(name, mods))

    def _key(self, press: KeyPress) -> None:
        """Menu first, then the focused widget, then its window, then app hotkeys."""
        if self.open_menu is not None and self._menu_key(press):
            return
        focus = self.focus
        if isinstance(focus, TextEditor) and self._clipboard_key(focus, press):
            return
        if focus is not None and focus.key(press):
            return
        top = next((w for w in reversed(self.windows) if w.visible), None)
        if top is None:
            return
        if top.key(press):
            return
        if press.chord in ("tab", "shift+tab"):
            self._cycle_focus(top, -1 if "shift" in press.mods else 1)
            return
        if self.modal is not None:
            return
        if press.chord in self.hotkeys:
            self.hotkeys[press.chord]()
        elif press.mods == {"alt"} and len(press.key) == 1:
            self._open_menu_by_letter(top, press.key.lower())

    def _open_menu_by_letter(self, window: Window, letter: str) -> None:
        """Alt+F opens the menu whose title starts with F, first item highlighted."""
        for widget in window.walk():
            if isinstance(widget, MenuTitle) and widget.label.lower().startswith(letter):
                self.show_menu(widget)
                widget.popup.step(1)
                return

    def _menu_key(self, press: KeyPress) -> bool:
        menu = self.open_menu
        assert menu is not None
        if press.chord in ("up", "down"):
            menu.popup.step(-1 if press.chord == "up" else 1)
        elif press.chord in ("left", "right"):
            bar = [w for w in (menu.parent.children if menu.parent else []) if w.visible]
            titles = [w for w in bar if isinstance(w, MenuTitle)]
            index = titles.index(menu) + (-1 if press.chord == "left" else 1)
            self.show_menu(titles[index % len(titles)])
        elif press.chord == "enter":
            item = menu.popup.highlighted
            self.close_menu()
            if item is not None:
                item.action()
        elif press.chord == "esc":
            self.close_menu()
        else:
            self.close_menu()
            return False  # anything else closes the menu and goes on as usual
        return True

    def _clipboard_key(self, editor: TextEditor, press: KeyPress) -> bool:
        if press.chord in ("ctrl+c", "ctrl+x") and editor.selection:
            self.clipboard = editor.selected_text()
            if press.chord == "ctrl+x":
                editor.backspace()
            return True
        if press.chord == "ctrl+v":
            if self.clipboard:
                editor.insert(self.clipboard)
            return True
        return False

    def _cycle_focus(self, window: Window, step: int) -> None:
        chain = window.focus_chain()
        if not chain:
            return
        index = chain.index(self.focus) + step if self.focus in chain else 0
        self.focus = chain[index % len(chain)]

    # Screen: held buttons and keys, sideways scroll ------------------------------------------

    def mouse_down(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        self._check_open()
        x, y = self.pointer if x is None or y is None else (x, y)
        self.log.append(f"mouse_down {x},{y} {button}")
        self._mouse_down(x, y, button, 1)

    def mouse_up(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        self._check_open()
        if x is not None and y is not None:
            self._move_to(x, y)
        self.log.append(f"mouse_up {self.pointer[0]},{self.pointer[1]} {button}")
        self._mouse_up(*self.pointer)

    def key_down(self, key: str) -> None:
        """Logged and remembered; the mocked widgets react to presses, not to held keys."""
        self._check_open()
        self.log.append(f"key_down {key}")
        self.held.append(key)

    def key_up(self, key: str) -> None:
        self._check_open()
        self.log.append(f"key_up {key}")
        if key in self.held:
            self.held.remove(key)

    def hscroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        """Logged only: no mocked widget scrolls sideways."""
        self._check_open()
        self.log.append(f"hscroll {amount}" + (f" at {x},{y}" if x is not None else ""))
        if x is not None and y is not None:
            self._move_to(x, y)

    # Lifecycle -------------------------------------------------------------------------------

    def release_all(self) -> None:
        self._pressed = None
        self.held.clear()

    def close(self) -> None:
        self.closed = True

    def _check_open(self) -> None:
        if self.closed:
            raise EnvironmentFailure("the mocked screen was closed; start the environment again")
