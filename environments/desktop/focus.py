"""Keeping the app's window focused, and telling the model when focus had moved.

Keys go wherever X keyboard focus is; a notification or a second window can take it between
steps. Before input (rate-limited) and at each observation, the keeper checks who has focus
and gives it back to the app. A window of the same app (a dialog: same process) is not
taken away, because the agent opened it on purpose; and when the app shows a dialog on top,
the dialog gets the keyboard, as a window manager would give it (without one, under Xvfb, a
new dialog never gets focus and typed keys go to the window behind it). Every refocus from
another app leaves a note such as "focus was lost to window 'X'; refocused", which the loop
shows to the model.
"""

from __future__ import annotations

from cradle.screen import x11


class FocusKeeper:
    """Holds the target window and the notes produced while keeping it focused."""

    def __init__(self, window: int, title: str, pids: set[int] | None = None) -> None:
        self.window = window
        self.title = title
        self.pids = set(pids or ())
        self._notes: list[str] = []
        self.app_pid = x11.window_pid(window)
        if self.app_pid is not None:
            self.pids.add(self.app_pid)

    def focus_now(self) -> bool:
        """Focus the window now (at start); True when it has focus afterwards."""
        return x11.focus(self.window)

    def _ours(self, window: int | None) -> bool:
        if window is None:
            return False
        if window == self.window:
            return True
        return bool(self.pids) and x11.window_pid(window) in self.pids

    def _target(self) -> int:
        """The app's window on top: a dialog it opened, else its main window."""
        windows = x11.app_windows(self.app_pid) if self.app_pid is not None else []
        for window in reversed(windows):
            if window == self.window or not x11.is_popup(window):
                return window
        return self.window

    def ensure(self) -> str | None:
        """Refocus the app if something else has focus; returns the note, if any."""
        current = x11.focused_window()
        target = self._target()
        if current == target or (target == self.window and self._ours(current)):
            return None
        name = x11.window_name(current) if current else ""
        if self._ours(current) or not name:
            # The app's own dialog is on top, or focus fell back to the root when a dialog
            # closed: the app takes the keys back, as under a window manager; nothing to tell.
            x11.focus(target)
            return None
        holder = repr(name)
        if x11.focus(target):
            note = f"focus was lost to window {holder}; refocused {self.title!r}"
        else:
            note = f"focus is on {holder} and {self.title!r} could not be refocused"
        self._notes.append(note)
        return note

    def drain(self) -> list[str]:
        """Notes since the last call (each is reported once)."""
        notes, self._notes = self._notes, []
        return notes
