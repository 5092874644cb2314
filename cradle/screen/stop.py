"""A global stop hotkey for runs on the real desktop: press it and the run stops cleanly.

While the agent owns the keyboard and mouse, Ctrl+C in the terminal may be out of reach (the
agent keeps focusing its window). The stop hotkey (default ``<ctrl>+<shift>+<f12>``, pynput's
``GlobalHotKeys`` syntax) is heard wherever the focus is and stops the run the way Ctrl+C
does: the current action ends, held keys and buttons are released, run.json says
``interrupted`` and the process exits with 130.

It does not rely on SIGINT reaching Python's default handler (a run started in the
background by a script inherits SIGINT as ignored, and then that handler is never called):
it calls :func:`cradle.signals.request_stop`, which leaves a stop request and wakes the main
thread with SIGINT, whose handler is the run's own (see cradle/signals.py). That also wakes
a main thread blocked in a system call (waiting for the model's reply). Only the ``desktop``
environment starts a listener; the chord is one no test, app or CI job presses by accident,
and ``none`` turns it off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cradle.signals import request_stop

DEFAULT_STOP_HOTKEY = "<ctrl>+<shift>+<f12>"
DISABLED = ("", "none", "off", "false", "0")


def validate_hotkey(chord: str) -> str:
    """``chord`` normalised (lower case, no spaces); ``ValueError`` when it cannot be a chord.

    The check is syntactic so it works without a display: ``<name>`` keys and single
    characters joined by ``+``, at least one of them.
    """
    text = chord.strip().lower().replace(" ", "")
    parts = text.split("+")
    if not text or any(not p for p in parts):
        raise ValueError(f"stop hotkey {chord!r} is not a chord like {DEFAULT_STOP_HOTKEY}")
    for part in parts:
        if not (len(part) == 1 or (part.startswith("<") and part.endswith(">") and len(part) > 2)):
            raise ValueError(
                f"stop hotkey {chord!r}: write special keys in angle brackets, e.g. "
                f"{DEFAULT_STOP_HOTKEY}"
            )
    return text


class StopHotkey:
    """A pynput listener for one chord; ``start`` returns a warning ('' when listening)."""

    def __init__(
        self, chord: str = DEFAULT_STOP_HOTKEY, on_press: Callable[[], None] = request_stop
    ) -> None:
        self.chord = validate_hotkey(chord)
        self.on_press = on_press
        self.fired = 0
        self._listener: Any = None

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def _fire(self) -> None:
        self.fired += 1
        self.on_press()

    def start(self) -> str:
        """Start listening; returns why it could not (no pynput backend, no display), or ''."""
        try:
            from pynput import keyboard  # needs a display on X11: imported only here

            listener = keyboard.GlobalHotKeys({self.chord: self._fire})
            listener.daemon = True
            listener.start()
            listener.wait()
        except Exception as exc:  # noqa: BLE001 - the run works without it; say so
            return f"stop hotkey {self.chord} is not available ({type(exc).__name__}: {exc})"
        self._listener = listener
        return ""

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
            if listener is not threading.current_thread():
                listener.join(timeout=2)
