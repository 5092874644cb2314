"""Work started on a thread now and waited for where its result is first needed.

Opening the long-term memory (importing chromadb, opening the store, loading the embedding
model) takes seconds under load; the runtime starts it when it is created, and the episode
waits for it only when the memory is first used (the first recall or skill ranking of the
first step, while that step's screen is being perceived), through the stand-ins below. What
the work raised is raised again, unchanged, to the one who waits: a store that cannot be
opened is the same one-line error as when it was opened in line.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from cradle.memory.skill_index import SkillIndexLike
    from cradle.modules.memory import LongTermMemory
    from cradle.types import MemoryItem, StepRecord

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


class PendingMemory:
    """The long-term memory handed to an episode while the store is still opening.

    Building an episode must not wait for the store: its first capture and perception can run
    meanwhile. So the episode gets this stand-in, and its first use (a recall, or a write)
    waits through ``resolve``: what the opening raised is raised there, to the step (which
    ends the run with it), and again by every later recall; a later write skips instead, as
    the error is already the run's news (its record would only repeat it). The error may have
    been met elsewhere first (by the skill ranker), so ``resolve(writing=True)`` gives None
    once the runtime has recorded it. ``resolve`` giving None otherwise means running without
    the memory (told by the runtime): nothing recalled or written.
    """

    def __init__(self, resolve: Callable[..., LongTermMemory | None]) -> None:
        self._resolve = resolve
        self._memory: LongTermMemory | None = None
        self._resolved = False
        self._failed = False

    def _target(self, *, writing: bool = False) -> LongTermMemory | None:
        if self._resolved:
            return self._memory
        if writing and self._failed:
            return None
        try:
            memory = self._resolve(writing=writing)
        except BaseException:
            self._failed = True
            raise
        if memory is None and writing:
            return None  # maybe a write skipped after a failed opening: a recall asks again
        self._memory, self._resolved = memory, True
        return memory

    def recall(self, query: str, *, k: int) -> list[MemoryItem]:
        memory = self._target()
        return memory.recall(query, k=k) if memory is not None else []

    def remember_step(self, task: str, record: StepRecord) -> None:
        memory = self._target(writing=True)
        if memory is not None:
            memory.remember_step(task, record)

    def remember_steps(self, batch: list[tuple[str, StepRecord]]) -> None:
        """Several steps in one write when the store can (see ``Memory.flush``)."""
        memory = self._target(writing=True)
        many = getattr(memory, "remember_steps", None)
        if callable(many):
            many(batch)
            return
        for task, record in batch:
            self.remember_step(task, record)

    def remember_run(self, task: str, run_id: str, summary: str, success: bool) -> None:
        memory = self._target(writing=True)
        if memory is not None:
            memory.remember_run(task, run_id, summary, success)


class PendingSkillIndex:
    """A skill index that waits for the store (whose collection it may be) at its first
    ``sync`` or ``rank``, not when the episode is built; see ``PendingMemory``. When no index
    can be had, ranking returns every synced skill, as an episode without a ranker shows."""

    def __init__(self, resolve: Callable[[], SkillIndexLike | None]) -> None:
        self._resolve = resolve
        self._index: SkillIndexLike | None = None
        self._resolved = False
        self._names: list[str] = []

    def _target(self) -> SkillIndexLike | None:
        if not self._resolved:
            self._index = self._resolve()
            self._resolved = True
        return self._index

    def sync(self, skills: dict[str, str]) -> None:
        self._names = list(skills)
        index = self._target()
        if index is not None:
            index.sync(skills)

    def rank(self, query: str, k: int = 5) -> list[str]:
        index = self._target()
        return index.rank(query, k) if index is not None else list(self._names)
