"""Work started on a thread now and waited for where its result is first needed.

Opening the long-term memory (importing chromadb, opening the store, loading the embedding
model) takes about a second; the runtime starts it when it is created, and the episode waits
for it only when the memory is first used, after the environment has started. What the work
raised is raised again, unchanged, to the one who waits: a store that cannot be opened is the
same one-line error as when it was opened in line.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_UNSET = object()


class Opening(Generic[T]):
    """``work()`` running on a daemon thread from construction; ``result()`` waits for it."""

    def __init__(
        self, work: Callable[[], T], *, name: str, close: Callable[[T], object] | None = None
    ) -> None:
        self._work = work
        self._close = close
        self._value: object = _UNSET
        self._error: BaseException | None = None
        self._taken = False
        self._abandoned = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            value = self._work()
        except BaseException as exc:  # noqa: BLE001 - handed to the one who waits
            self._error = exc
            return
        with self._lock:
            self._value = value
            abandoned = self._abandoned
        if abandoned:
            self._close_quietly(value)

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> T:
        """The work's value (once: the caller owns it then), or its exception raised here."""
        self._thread.join()
        with self._lock:
            if self._taken:
                raise RuntimeError("the result of this opening was already taken")
            self._taken = True
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._value  # type: ignore[return-value]

    def discard(self, timeout: float) -> None:
        """Nobody will use the result: close it, waiting up to ``timeout`` seconds for it; a
        work still running then closes what it opens when it ends (tearing down must not
        wait for a hung server). Problems are printed, not raised."""
        self._thread.join(timeout)
        with self._lock:
            if self._taken:
                return
            self._taken = True
            if self._value is _UNSET:
                self._abandoned = True  # still running, or it failed: nothing to close here
                return
            value = self._value
        self._close_quietly(value)  # type: ignore[arg-type]

    def _close_quietly(self, value: T) -> None:
        if self._close is None:
            return
        try:
            self._close(value)
        except Exception as exc:  # noqa: BLE001 - see discard
            print(f"cradle: while closing: {exc}", file=sys.stderr)
