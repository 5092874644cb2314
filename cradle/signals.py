"""Stop signals: SIGINT, SIGTERM and SIGHUP end a run the way Ctrl+C does, however launched.

Python's own Ctrl+C handling is not enough for an agent that holds the keyboard:

* SIGTERM (sent by ``timeout``, systemd, docker, Kubernetes, Ray) and SIGHUP (the terminal
  closed) kill the process at once by default: no ``finally`` runs, held keys stay down and
  run.json keeps saying ``running``.
* A process started in the background by a script inherits SIGINT as *ignored*; Python then
  installs no KeyboardInterrupt handler, so Ctrl+C-like stops (and a stop hotkey that sends
  SIGINT) silently do nothing.

While :func:`stop_signals` is active (``cradle`` installs it for the whole command,
an episode for its run, ``cradle record`` for its recording) the three signals raise
:class:`Stopped` in the main thread, whatever disposition the process inherited: SIGINT and
SIGTERM always, SIGHUP unless it was inherited as ignored (``nohup`` asks to survive a
hangup, and that choice is kept). The previous handlers come back when it ends.

``Stopped`` is a ``KeyboardInterrupt``, so it passes ``except Exception`` and every existing
Ctrl+C path applies. Its exit code follows the shell convention 128 + signal number: 130
(SIGINT, the stop hotkey), 143 (SIGTERM), 129 (SIGHUP).

A second signal within :data:`GRACE_SECONDS` of the one that started the stop is ignored, so
pressing Ctrl+C twice (or SIGTERM sent to the process and its group) does not cut the clean
stop short; a later one raises again. Inside :func:`deferred` signals are noted, not raised:
for the few lines that must finish (releasing keys, closing the environment).

The stop hotkey calls :func:`request_stop` from its listener thread: it leaves a request and
wakes the main thread with SIGINT, whose handler is ours during a run, so a main thread
blocked in a system call (waiting for the model's reply) wakes up too. The agent also checks
:func:`check_stop` between steps, so a request is never lost.
"""

from __future__ import annotations

import _thread
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

GRACE_SECONDS = 5.0
"""After a stop is raised, further signals are ignored for this long (the stop is underway)."""

_NAMES = ("SIGINT", "SIGTERM", "SIGHUP")
STOP_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in _NAMES if hasattr(signal, name)
)
"""The signals that stop a run on this platform (Windows has no SIGHUP)."""
_SIGHUP = getattr(signal, "SIGHUP", None)

_REASONS = {
    "SIGINT": "interrupted by the user (Ctrl+C or SIGINT)",
    "SIGTERM": "stopped by SIGTERM",
    "SIGHUP": "stopped by SIGHUP (the terminal was closed)",
}


class Stopped(KeyboardInterrupt):
    """A stop signal (or the stop hotkey) turned into an exception in the main thread."""

    def __init__(self, signum: int, reason: str = "") -> None:
        self.signum = signum
        self.reason = reason or _REASONS.get(signal_name(signum), f"stopped by signal {signum}")
        super().__init__(self.reason)

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as shells report a process ended by that signal."""
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def stop_of(exc: BaseException) -> Stopped:
    """``exc`` as a :class:`Stopped` (a plain KeyboardInterrupt counts as Ctrl+C)."""
    return exc if isinstance(exc, Stopped) else Stopped(signal.SIGINT)


class _State:
    """Process-wide, because signal handlers are."""

    def __init__(self) -> None:
        self.depth = 0
        self.requested: Stopped | None = None
        self.raised_at: float | None = None
        self.deferring = 0
        self.last: Stopped | None = None


_state = _State()


def _handle(signum: int, frame: FrameType | None) -> None:
    request, _state.requested = _state.requested, None
    stop = request if request is not None and signum == signal.SIGINT else Stopped(signum)
    now = time.monotonic()
    if _state.deferring or (
        _state.raised_at is not None and now - _state.raised_at < GRACE_SECONDS
    ):
        return
    _state.raised_at = now
    _state.last = stop
    raise stop


def installed() -> bool:
    """Whether our handlers are in place (a run is under :func:`stop_signals`)."""
    return _state.depth > 0


@contextmanager
def stop_signals() -> Iterator[None]:
    """Install the stop handlers for the duration of the block (nests; main thread only).

    Off the main thread signal handlers cannot be installed: the block runs unprotected.
    """
    if _state.depth:
        _state.depth += 1
        try:
            yield
        finally:
            _state.depth -= 1
        return
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved: dict[int, Any] = {}
    _state.depth = 1
    _state.requested, _state.raised_at, _state.deferring, _state.last = None, None, 0, None
    try:
        for signum in STOP_SIGNALS:
            previous = signal.getsignal(signum)
            if signum == _SIGHUP and previous == signal.SIG_IGN:
                continue  # nohup: the user asked this process to survive a hangup
            saved[signum] = previous
            signal.signal(signum, _handle)
        yield
    finally:
        _state.deferring += 1  # nothing is raised while the old handlers come back
        for signum, previous in saved.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        _state.depth, _state.requested, _state.deferring = 0, None, 0


@contextmanager
def deferred() -> Iterator[None]:
    """Signals arriving in the block are not raised: for cleanup that must not be cut short."""
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1


def request_stop(reason: str = "stopped by the stop hotkey") -> None:
    """Stop the run from any thread, as Ctrl+C does, whatever SIGINT's inherited disposition.

    The request is left for the main thread, then SIGINT is sent to the main thread (not the
    process, which could deliver it to another thread) so a blocking call wakes up. When our
    handler does not own SIGINT (no run under :func:`stop_signals`), SIGINT is sent only if
    Python handles it; the request then waits for :func:`check_stop`.
    """
    _state.requested = Stopped(signal.SIGINT, reason)
    if not callable(signal.getsignal(signal.SIGINT)):
        return  # ignored or default: a signal would do nothing (or kill without cleanup)
    main = threading.main_thread()
    if hasattr(signal, "pthread_kill") and main.ident is not None and main.is_alive():
        signal.pthread_kill(main.ident, signal.SIGINT)
    else:
        _thread.interrupt_main()


def check_stop() -> None:
    """Raise a pending stop request (for loops to call between steps)."""
    request, _state.requested = _state.requested, None
    if request is not None:
        _state.raised_at = time.monotonic()
        _state.last = request
        raise request


def last_stop() -> Stopped | None:
    """The stop raised most recently in this process, if any."""
    return _state.last
