"""The mocked Notepad: a text area, File/Edit/Help menus, a Save As dialog and in-memory files.

All app logic lives here so ``__init__`` stays a thin ``Environment`` adapter, and tests can
drive the app through its ``MockScreen`` exactly as the agent would.
"""

from __future__ import annotations

from typing import Any

from cradle.screen.mock import (
    Button,
    Dialog,
    Label,
    MenuBar,
    MockScreen,
    StatusBar,
    TextArea,
    TextField,
    Window,
    centered,
)
from cradle.screen.mock.screen import DEFAULT_SIZE

APP_NAME = "Notepad"
UNTITLED = "Untitled"


class NotepadApp:
    """One Notepad window on its own ``MockScreen``; ``state()`` summarises it as JSON."""

    def __init__(self, size: tuple[int, int] = DEFAULT_SIZE, *, text: str = "") -> None:
        self.screen = MockScreen(size)
        self.files: dict[str, str] = {}
        """Saved documents by file name: the app's whole 'disk'."""
        self.filename: str | None = None
        self.modified = False
        self.running = True
        self.name_field: TextField | None = None
        """The Save As dialog's file-name field while that dialog is open."""
        width, height = self.screen.size
        self.window = Window((24, 16, width - 24, height - 16), self._title(), name="notepad")
        left, top, right, bottom = self.window.client_rect
        menubar = self.window.add(MenuBar((left, top, right, top + MenuBar.HEIGHT)))
        menubar.add_menu(
            "File",
            [
                ("New", self.new, "Ctrl+N"),
                ("Save", self.save, "Ctrl+S"),
                ("Save As...", self.save_as, "Ctrl+Shift+S"),
                ("Exit", self.exit, ""),
            ],
        )
        menubar.add_menu(
            "Edit", [("Select All", self.select_all, "Ctrl+A"), ("Clear", self.clear, "")]
        )
        menubar.add_menu("Help", [("About", self.about, "")])
        self.status = self.window.add(StatusBar((left, bottom - 30, right, bottom), "Ready"))
        self.text_area = self.window.add(
            TextArea(
                (left, top + MenuBar.HEIGHT, right, bottom - 30),
                text=text,
                label="Text",
                name="text_area",
                on_change=self._changed,
            )
        )
        self.text_area.caret = 0
        self.screen.add_window(self.window)
        self.screen.set_focus(self.text_area)
        for chord, action in {
            "ctrl+s": self.save,
            "ctrl+shift+s": self.save_as,
            "ctrl+n": self.new,
            "ctrl+a": self.select_all,
            "alt+f4": self.exit,
        }.items():
            self.screen.add_hotkey(chord, action)

    # Menu and hotkey actions -------------------------------------------------------------

    def new(self) -> None:
        """Start an empty, unnamed document (unsaved changes are dropped, as in a mock)."""
        self.text_area.text = ""
        self.filename, self.modified = None, False
        self._refresh("New document")
        self.screen.set_focus(self.text_area)

    def save(self) -> None:
        """Save under the current name, or ask for one when the document has none."""
        if self.filename is None:
            self.save_as()
        else:
            self._store(self.filename)

    def save_as(self) -> None:
        """Open the modal Save As dialog with the file-name field focused."""
        if self.dialog is not None:
            return
        dialog = Dialog(
            centered(self.screen.size, 460, 190), "Save As", on_cancel=self._cancel, name="save_as"
        )
        x0, y0, x1, y1 = dialog.rect
        dialog.add(Label((x0 + 12, y0 + 56, x0 + 120, y0 + 90), "File name:", name="name_label"))
        field = self.name_field = dialog.add(
            TextField((x0 + 120, y0 + 56, x1 - 20, y0 + 90), label="File name", name="file_name")
        )
        field.text = self.filename or ""
        field.select_all()
        dialog.default_button = dialog.add(
            Button(
                (x1 - 230, y1 - 54, x1 - 125, y1 - 18),
                "Save",
                self._confirm_save,
                name="save_button",
                default=True,
            )
        )
        dialog.add(
            Button(
                (x1 - 115, y1 - 54, x1 - 20, y1 - 18), "Cancel", self._cancel, name="cancel_button"
            )
        )
        dialog.initial_focus = field
        self.screen.open_dialog(dialog)

    def exit(self) -> None:
        """Close the window; the screen then shows only the empty desktop."""
        self.screen.close_menu()
        self.window.visible = False
        self.running = False
        self.screen.set_focus(None)

    def select_all(self) -> None:
        self.text_area.select_all()
        self.screen.set_focus(self.text_area)

    def clear(self) -> None:
        self.text_area.select_all()
        self.text_area.backspace()
        self.screen.set_focus(self.text_area)

    def about(self) -> None:
        """A small dialog naming the app, closed with OK or Esc."""
        dialog = Dialog(centered(self.screen.size, 420, 180), "About Notepad", name="about")
        x0, y0, x1, y1 = dialog.rect
        dialog.on_cancel = lambda: self.screen.close_dialog(dialog)
        dialog.add(Label((x0 + 12, y0 + 48, x1 - 12, y0 + 76), "Mock Notepad 1.0"))
        dialog.add(Label((x0 + 12, y0 + 78, x1 - 12, y0 + 106), "A deterministic editor."))
        dialog.default_button = dialog.add(
            Button((x1 - 110, y1 - 54, x1 - 20, y1 - 18), "OK", dialog.on_cancel, default=True)
        )
        self.screen.open_dialog(dialog)

    # Dialog plumbing ---------------------------------------------------------------------------

    @property
    def dialog(self) -> Dialog | None:
        """The open dialog, if any (there is at most one)."""
        dialogs = self.screen.dialogs
        return dialogs[-1] if dialogs else None

    def _confirm_save(self) -> None:
        dialog = self.dialog
        if dialog is None or self.name_field is None:
            return
        name = self.name_field.text.strip()
        if not name:
            self.status.text = "Type a file name"
            return
        self.screen.close_dialog(dialog)
        self._store(name)

    def _cancel(self) -> None:
        if self.dialog is not None:
            self.screen.close_dialog(self.dialog)
            self.status.text = "Save cancelled"

    def _store(self, name: str) -> None:
        self.files[name] = self.text_area.text
        self.filename, self.modified = name, False
        self._refresh(f"Saved {name}")

    def _changed(self) -> None:
        self.modified = True

    def _title(self) -> str:
        return f"{self.filename or UNTITLED} - {APP_NAME}"

    def _refresh(self, status: str) -> None:
        self.window.title = self._title()
        self.status.text = status

    # Reporting ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What tests and run reports check: title, text, files, dialog, focus and more."""
        focus = self.screen.focus
        menu = self.screen.open_menu
        return {
            "title": self.window.title,
            "text": self.text_area.text,
            "selection": self.text_area.selected_text(),
            "files": dict(self.files),
            "filename": self.filename,
            "modified": self.modified,
            "dialog": self.dialog.title if self.dialog else None,
            "menu": menu.label if menu else None,
            "focus": focus.name if focus else None,
            "status": self.status.text,
            "running": self.running,
        }
