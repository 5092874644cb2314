"""Menu bar, drop-down menus and menu items for the mocked screen.

A drop-down is not part of its window's widget tree: ``MockScreen`` draws the one open menu
above everything and hit-tests it first, the way a real popup sits on top of all windows.
"""

from __future__ import annotations

from PIL import ImageDraw

from cradle.screen.mock.fonts import text_width
from cradle.screen.mock.toolkit import (
    FRAME,
    HIGHLIGHT,
    MUTED,
    TITLE_BG,
    Action,
    Canvas,
    Rect,
    Widget,
    box,
    draw_text,
)

MENU_PAD = 12
ITEM_HEIGHT = 32


class MenuItem(Widget):
    """One entry of a drop-down; ``shortcut`` is only shown, the app binds the hotkey."""

    role = "menu_item"

    def __init__(self, rect: Rect, label: str, action: Action, *, shortcut: str = "") -> None:
        super().__init__(rect, label=label)
        self.action = action
        self.shortcut = shortcut

    def paint(self, canvas: Canvas) -> None:
        popup = self.parent
        if isinstance(popup, MenuPopup) and popup.highlighted is self:
            box(canvas, self.rect, HIGHLIGHT)
        draw_text(canvas, self.rect, self.label, pad=MENU_PAD + 8)
        if self.shortcut:
            draw_text(canvas, self.rect, self.shortcut, color=MUTED, align="right", pad=MENU_PAD)


class MenuPopup(Widget):
    """The drop-down list under a menu title; ``highlight`` follows the pointer or arrows."""

    role = "menu_popup"

    def __init__(self, title: MenuTitle, items: list[tuple[str, Action, str]]) -> None:
        x0, _, _, y0 = title.rect
        widest = max((text_width(label) + text_width(sc) for label, _, sc in items), default=0)
        width = max(200, round(widest) + 4 * MENU_PAD + 48)
        height = ITEM_HEIGHT * len(items) + 8
        super().__init__((x0, y0, x0 + width, y0 + height), name=f"{title.name}_popup")
        self.parent = title
        self.highlight: int | None = None
        for i, (label, action, shortcut) in enumerate(items):
            top = y0 + 4 + i * ITEM_HEIGHT
            self.add(
                MenuItem(
                    (x0 + 4, top, x0 + width - 4, top + ITEM_HEIGHT),
                    label,
                    action,
                    shortcut=shortcut,
                )
            )

    @property
    def items(self) -> list[MenuItem]:
        return [c for c in self.children if isinstance(c, MenuItem)]

    @property
    def highlighted(self) -> MenuItem | None:
        items = self.items
        return items[self.highlight] if self.highlight is not None else None

    def step(self, delta: int) -> None:
        """Move the highlight by ``delta`` items, wrapping around (arrow keys)."""
        count = len(self.items)
        if count:
            start = -1 if self.highlight is None and delta > 0 else (self.highlight or 0)
            self.highlight = (start + delta) % count

    def hover(self, x: int, y: int) -> None:
        """Highlight the item under the pointer, if any."""
        for i, item in enumerate(self.items):
            if item.contains(x, y):
                self.highlight = i

    def paint(self, canvas: Canvas) -> None:
        x0, y0, x1, y1 = self.rect
        box(canvas, (x0 + 3, y0 + 3, x1 + 3, y1 + 3), (180, 180, 180))
        box(canvas, self.rect, TITLE_BG, FRAME)


class MenuTitle(Widget):
    """A word on the menu bar ('File'); clicking it opens its popup."""

    role = "menu"

    def __init__(self, rect: Rect, label: str, items: list[tuple[str, Action, str]]) -> None:
        super().__init__(rect, label=label)
        self.is_open = False
        self.popup = MenuPopup(self, items)

    def paint(self, canvas: Canvas) -> None:
        if self.is_open:
            box(canvas, self.rect, HIGHLIGHT)
        draw_text(canvas, self.rect, self.label, align="center", pad=0)


class MenuBar(Widget):
    """The strip of menu titles under a window's title bar."""

    role = "menubar"
    HEIGHT = 30

    def __init__(self, rect: Rect) -> None:
        super().__init__(rect, name="menubar")

    @property
    def menus(self) -> list[MenuTitle]:
        return [c for c in self.children if isinstance(c, MenuTitle)]

    def add_menu(self, label: str, items: list[tuple[str, Action, str]]) -> MenuTitle:
        """Append a menu; ``items`` are (label, action, shortcut text) triples."""
        x0, y0, _, y1 = self.rect
        left = self.menus[-1].rect[2] if self.menus else x0 + 4
        width = round(text_width(label)) + 2 * MENU_PAD
        return self.add(MenuTitle((left, y0, left + width, y1), label, items))

    def paint(self, canvas: Canvas) -> None:
        box(canvas, self.rect, TITLE_BG)
        x0, _, x1, y1 = self.rect
        draw: ImageDraw.ImageDraw = canvas.draw
        draw.line((x0, y1 - 1, x1 - 1, y1 - 1), fill=(220, 220, 220))
