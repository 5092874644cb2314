"""Keeping the app's window focused, and telling the model when focus had moved.

Keys go wherever X keyboard focus is; a notification or a second window can take it between
steps. Before input (rate-limited) and at each observation, the keeper checks who has focus
and gives it back to the app window. A window of the same app (a dialog: same process) is
left alone, because the agent opened it on purpose. Every refocus leaves a note such as
"focus was lost to window 'X'; refocused", which the loop shows to the model.
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
        pid = x11.window_pid(window)
        if pid is not None:
            self.pids.add(pid)

    def focus_now(self) -> bool:
        """Focus the window now (at start); True when it has focus afterwards."""
        return x11.focus(self.window)

    def _ours(self, window: int | None) -> bool:
        if window is None:
            return False
        if window == self.window:
            return True
        return bool(self.pids) and x11.window_pid(window) in self.pids

    def ensure(self) -> str | None:
        """Refocus the window if something else has focus; returns the note, if any."""
        current = x11.focused_window()
        if self._ours(current):
            return None
        holder = repr(x11.window_name(current)) if current else "no window"
        if x11.focus(self.window):
            note = f"focus was lost to window {holder}; refocused {self.title!r}"
        else:
            note = f"focus is on {holder} and {self.title!r} could not be refocused"
        self._notes.append(note)
        return note

    def drain(self) -> list[str]:
        """Notes since the last call (each is reported once)."""
        notes, self._notes = self._notes, []
        return notes
