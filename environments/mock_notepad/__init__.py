"""mock-notepad: a deterministic text editor on a mocked screen, for tests and demos."""

from __future__ import annotations

from typing import Any

from cradle.environment import Environment
from cradle.screen.mock import MockScreen, parse_size

from .app import NotepadApp


class MockNotepad(Environment):
    """Notepad drawn by the mock toolkit; options: ``size`` ('1024x768') and initial ``text``."""

    name = "mock-notepad"
    starts_fresh = True
    needs_display = False
    option_help = {
        "size": "screen size WIDTHxHEIGHT (default 1024x768)",
        "width": "screen width in pixels, when no size is given",
        "height": "screen height in pixels, when no size is given",
        "text": "what the editor holds when it starts (default empty)",
    }
    description = (
        "A mocked text editor: a text area, a File menu (New, Save, Save As..., Exit) and a "
        "save dialog; deterministic, no display needed."
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.size = parse_size(self.options)  # a bad size fails here, before any run folder
        self.app: NotepadApp | None = None

    def start(self) -> MockScreen:
        self.app = NotepadApp(self.size, text=str(self.options.get("text", "")))
        return self.app.screen

    def notes(self) -> list[str]:
        if self.app is not None and not self.app.running:
            return ["Notepad has been closed (File > Exit); the desktop is empty."]
        return []

    def close(self) -> None:
        if self.app is not None:
            self.app.screen.close()

    def state(self) -> dict[str, Any]:
        return self.app.state() if self.app is not None else {}


environment = MockNotepad
