"""Memory: the recent steps, plus whatever a long-term store recalls for this situation.

The recent-steps window is kept here; what a step shows in it is
:func:`cradle.memory.steps.summarize`, the same reading of a step the long-term store uses.
Long-term memory sits behind ``LongTermMemory`` so the loop works the same with no store, an
embedded vector store or a shared server. What memory offers the model is rendered by
``prompts/memory.j2``, included by the other templates.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from cradle.memory.budget import fit_to_budget
from cradle.memory.steps import summarize
from cradle.types import MemoryItem, MemoryRecall, StepRecord, StepSummary


class LongTermMemory(Protocol):
    """A store of past steps, runs and lessons that can be searched by meaning."""

    def recall(self, query: str, *, k: int) -> list[MemoryItem]: ...

    def remember_step(self, task: str, record: StepRecord) -> None: ...

    def remember_run(self, task: str, run_id: str, summary: str, success: bool) -> None: ...


class NoLongTermMemory:
    """The store used when none is configured: remembers nothing, recalls nothing."""

    def recall(self, query: str, *, k: int) -> list[MemoryItem]:
        return []

    def remember_step(self, task: str, record: StepRecord) -> None:
        return None

    def remember_run(self, task: str, run_id: str, summary: str, success: bool) -> None:
        return None


class Memory:
    """The memory module: a window of recent steps and a long-term store."""

    name = "memory"

    def __init__(
        self,
        *,
        window: int = 5,
        long_term: LongTermMemory | None = None,
        recall_k: int = 3,
        recall_tokens: int = 400,
        write_batch: int = 5,
    ) -> None:
        self._recent: deque[StepSummary] = deque(maxlen=max(window, 0) or None)
        self.window = window
        self.long_term: LongTermMemory = long_term or NoLongTermMemory()
        self.recall_k = recall_k
        self.recall_tokens = recall_tokens
        self.write_batch = max(write_batch, 1)
        self._unwritten: list[tuple[str, StepRecord]] = []

    def recall(self, task: str, subtask: str = "") -> MemoryRecall:
        """What the model should see this step about the past."""
        query = f"{task} {subtask}".strip()
        long_term = self.long_term.recall(query, k=self.recall_k) if self.recall_k else []
        long_term = fit_to_budget(long_term, self.recall_tokens)
        recent = list(self._recent)[-self.window :] if self.window else []
        return MemoryRecall(recent_steps=recent, long_term=long_term)

    def record(self, task: str, record: StepRecord) -> None:
        """Remember a finished step: in the window now, in the long-term store in batches.

        The window shows the last steps to the model anyway, so the store receives them
        ``write_batch`` at a time (one upsert instead of several); ``finish_run`` writes the
        rest. A crash loses at most that many step memories, never the trajectory.
        """
        self._recent.append(summarize(record))
        self._unwritten.append((task, record))
        if len(self._unwritten) >= self.write_batch:
            self.flush()

    def flush(self) -> None:
        """Write the steps not yet in the long-term store."""
        batch, self._unwritten = self._unwritten, []
        if not batch:
            return
        many = getattr(self.long_term, "remember_steps", None)
        if callable(many):
            many(batch)
            return
        for task, record in batch:
            self.long_term.remember_step(task, record)

    def finish_run(self, task: str, run_id: str, success: bool, summary: str) -> None:
        """Write what is left, and how the run ended, for runs of similar tasks later."""
        self.flush()
        self.long_term.remember_run(task, run_id, summary, success)

    def preload(self, records: list[StepRecord]) -> None:
        """Refill the window from recorded steps (used when a run resumes)."""
        for record in records:
            self._recent.append(summarize(record))
