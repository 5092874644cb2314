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

    def __init__(self, work: Callable[[], T], *, name: str,
                 close: Callable[[T], object] | None = None) -> None:
        self._work = work
        self._close = close
        self._value: object = _UNSET
        self._error: BaseException | None = None
        self._taken = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as exc:  # noqa: BLE001 - handed to the one who waits
            self._error = exc

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
        """Nobody will use the result: wait up to ``timeout`` seconds and close it (problems
        are printed, not raised: this runs while tearing down). A thread still running then
        is left behind; it is a daemon and holds nothing the caller still needs."""
        self._thread.join(timeout)
        with self._lock:
            if self._taken or self._thread.is_alive():
                return
            self._taken = True
        if self._value is _UNSET or self._close is None:
            return
        try:
            self._close(self._value)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - see the docstring
            print(f"cradle: while closing: {exc}", file=sys.stderr)
