"""A small GTK3 window with icon-only buttons: only the accessibility tree names them.

"Zoom in" and "Zoom out" draw a plus and a minus (pixels, no text and no icon theme), so OCR
cannot find them by name; their accessible names can. An entry named "Comment" (no drawn
label), a menu bar with File > "Reset zoom", and a label with the zoom level complete it.
The window writes its state as JSON to ``--state`` on every change (and once when shown, with
each widget's box on screen), so a test can assert what a click did without reading pixels.

Run with the system Python (PyGObject comes from Debian, not the venv):
``/usr/bin/python3 gtk_icons.py --state FILE [--title T] [--x X --y Y]``.
State: ``{"zoom": int, "comment": str, "clicks": [names], "widgets": {name: [x0, y0, x1, y1]},
"pid": int}``; zoom starts at 100, Zoom in adds 10, Zoom out takes 10, Reset zoom sets 100.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, GLib, Gtk  # noqa: E402

ICON = 24
INK = 0x202020FF
PAPER = 0x00000000


def glyph(plus: bool) -> GdkPixbuf.Pixbuf:
    """A plus or minus sign drawn with filled rectangles (no fonts, no icon theme)."""
    pixbuf = GdkPixbuf.Pixbuf.new(GdkPixbuf.Colorspace.RGB, True, 8, ICON, ICON)
    pixbuf.fill(PAPER)
    bar, thick = ICON - 6, 4
    mid = (ICON - thick) // 2
    pixbuf.new_subpixbuf(3, mid, bar, thick).fill(INK)
    if plus:
        pixbuf.new_subpixbuf(mid, 3, thick, bar).fill(INK)
    return pixbuf


class IconWindow:
    """The window, its widgets and the state it writes."""

    def __init__(self, title: str, state_file: Path) -> None:
        self.state_file = state_file
        self.zoom = 100
        self.clicks: list[str] = []
        self.window = Gtk.Window(title=title)
        self.window.set_default_size(420, 220)
        self.window.connect("destroy", Gtk.main_quit)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12)
        self.window.add(box)
        box.pack_start(self._menu_bar(), False, False, 0)
        row = Gtk.Box(spacing=12)
        self.zoom_in = self._icon_button("Zoom in", True, 10)
        self.zoom_out = self._icon_button("Zoom out", False, -10)
        self.level = Gtk.Label(label=self._level_text())
        for widget in (self.zoom_in, self.zoom_out, self.level):
            row.pack_start(widget, False, False, 12)
        box.pack_start(row, False, False, 0)
        self.entry = Gtk.Entry()
        self.entry.set_width_chars(24)
        self.entry.get_accessible().set_name("Comment")
        self.entry.connect("changed", lambda _e: self.write())
        box.pack_start(self.entry, False, False, 12)

    def _menu_bar(self) -> Gtk.MenuBar:
        bar = Gtk.MenuBar()
        file_item = Gtk.MenuItem(label="File")
        menu = Gtk.Menu()
        self.reset = Gtk.MenuItem(label="Reset zoom")
        self.reset.connect("activate", lambda _i: self.set_zoom("Reset zoom", None))
        menu.append(self.reset)
        file_item.set_submenu(menu)
        bar.append(file_item)
        self.file_item = file_item
        return bar

    def _icon_button(self, name: str, plus: bool, step: int) -> Gtk.Button:
        button = Gtk.Button()
        button.set_image(Gtk.Image.new_from_pixbuf(glyph(plus)))
        button.set_always_show_image(True)
        button.get_accessible().set_name(name)
        button.connect("clicked", lambda _b: self.set_zoom(name, step))
        return button

    def _level_text(self) -> str:
        return f"Zoom {self.zoom}%"

    def set_zoom(self, name: str, step: int | None) -> None:
        self.clicks.append(name)
        self.zoom = 100 if step is None else self.zoom + step
        self.level.set_text(self._level_text())
        self.write()

    def widgets(self) -> dict[str, list[int]]:
        """Each widget's box on screen (x0, y0, x1, y1) in X coordinates."""
        origin = self.window.get_window()
        if origin is None:
            return {}
        _, ox, oy = origin.get_origin()
        out = {}
        for name in ("zoom_in", "zoom_out", "level", "entry", "file_item"):
            widget = getattr(self, name)
            x, y = widget.translate_coordinates(self.window, 0, 0) or (0, 0)
            alloc = widget.get_allocation()
            out[name] = [ox + x, oy + y, ox + x + alloc.width, oy + y + alloc.height]
        return out

    def state(self) -> dict[str, Any]:
        return {
            "zoom": self.zoom,
            "comment": self.entry.get_text(),
            "clicks": self.clicks,
            "widgets": self.widgets(),
            "pid": os.getpid(),
        }

    def write(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state()))
        tmp.replace(self.state_file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--title", default="Icon zoom")
    parser.add_argument("--x", type=int, default=None)
    parser.add_argument("--y", type=int, default=None)
    args = parser.parse_args()
    app = IconWindow(args.title, args.state)
    if args.x is not None and args.y is not None:
        app.window.move(args.x, args.y)
    app.window.show_all()
    GLib.timeout_add(300, lambda: app.write() and False)
    Gtk.main()


if __name__ == "__main__":
    main()
