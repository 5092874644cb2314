"""The local scheduler: a thread per worker slot runs the next task, the main thread records.

The Ray scheduler (:mod:`cradle.eval.cluster`) derives from it: the same jobs, recording and
retry rule, with tasks placed on the cluster's nodes instead of local slots.
"""

from __future__ import annotations

import queue
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cradle.eval.fleet import SharedSkills
from cradle.eval.jobs import EvalJob, EvalResult
from cradle.eval.options import EvalOptions
from cradle.eval.pool import KILL_GRACE, Attempt, Slot, run_in_slot
from cradle.eval.progress import EvalProgress
from cradle.eval.results import LOGS_DIR, RESULTS_FILE, RUNS_DIR, append_result
from cradle.signals import deferred
from cradle.types import Task


class Scheduler:
    """Feeds tasks to the slots' threads and records what comes back, in the main thread.

    The Ray scheduler (cradle.eval.cluster) is this class with another ``run``: jobs,
    recording and the retry rule are the same."""

    def __init__(
        self,
        options: EvalOptions,
        out: Path,
        progress: EvalProgress,
        results: dict[str, EvalResult],
        skills: SharedSkills,
    ) -> None:
        self.options = options
        self.skills = skills
        self.out = out
        self.progress = progress
        self.results = results
        self.tasks: queue.Queue[Task] = queue.Queue()
        self.events: queue.Queue[tuple[str, Task, EvalResult | None]] = queue.Queue()
        self.stopping = threading.Event()
        self.needs_display = display_needs()

    def run(self, todo: list[Task]) -> None:
        if not todo:
            return
        for task in todo:
            self.tasks.put(task)
        scratch = Path(tempfile.mkdtemp(prefix="cradle-eval-"))
        slots = [
            Slot(number, scratch) for number in range(1, min(self.options.workers, len(todo)) + 1)
        ]
        self._note_dbus(slots[0], todo)
        threads = [
            threading.Thread(
                target=self._slot_loop,
                args=(slot,),
                daemon=True,
                name=f"cradle-eval-slot-{slot.number}",
            )
            for slot in slots
        ]
        try:
            for thread in threads:
                thread.start()
            remaining = len(todo)
            while remaining:
                try:
                    kind, task, result = self.events.get(timeout=0.25)
                except queue.Empty:
                    continue
                if kind == "started":
                    self.progress.task_started(task.id)
                    continue
                if kind == "retry":
                    assert result is not None
                    self.note_retry(task, result)
                    continue
                assert result is not None
                self._record(task, result)
                remaining -= 1
        finally:
            with deferred():
                self._stop(slots, threads)
                shutil.rmtree(scratch, ignore_errors=True)

    def summary(self) -> dict[str, Any]:
        """What this scheduler adds to summary.json."""
        return {}

    def job(self, task: Task, runs_dir: Path) -> EvalJob:
        """The worker's job for ``task``, its run folder going into ``runs_dir``."""
        o = self.options
        return EvalJob.of(
            task,
            mode=o.mode,
            runs_dir=str(runs_dir),
            model=o.model,
            agent=o.agent,
            memory=o.memory,
            skills=self.skills.for_job(),
        )

    def note_retry(self, task: Task, result: EvalResult) -> None:
        self.progress.note(f"{task.id}: {result.error}; trying again")

    def _record(self, task: Task, result: EvalResult) -> None:
        """Promote the task's skills if it passed (here alone: one writer of the folder),
        then append its line."""
        self.skills.take(task, result)
        with deferred():  # a line is written whole, or not at all
            append_result(self.out / RESULTS_FILE, result)
            self.results[result.id] = result
        self.progress.task_finished(result)

    def _stop(self, slots: list[Slot], threads: list[threading.Thread]) -> None:
        """Stop the running workers (SIGTERM, SIGKILL after a grace), keep what finished."""
        self.stopping.set()
        for slot in slots:
            slot.stop()
        deadline = time.monotonic() + KILL_GRACE
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for slot in slots:
            slot.stop(signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=KILL_GRACE)
        while True:  # results that arrived while stopping, from workers that were not stopped
            try:
                kind, task, result = self.events.get_nowait()
            except queue.Empty:
                break
            if (
                kind == "finished"
                and result is not None
                and result.id not in self.results
                and not (result.error or "").startswith("interrupted")
            ):
                self._record(task, result)

    def _slot_loop(self, slot: Slot) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    task = self.tasks.get_nowait()
                except queue.Empty:
                    return
                self.events.put(("started", task, None))
                result = self._run_one(slot, task)
                if self.stopping.is_set() and (result.error or "").startswith("interrupted"):
                    return
                self.events.put(("finished", task, result))
        finally:
            slot.close()

    def _run_one(self, slot: Slot, task: Task) -> EvalResult:
        """The task's result line, after up to ``retries`` more attempts when its worker
        crashed; a harness problem (no Xvfb, no disk) fails only this task."""
        o, log, attempt = self.options, self.out / LOGS_DIR / f"{task.id}.log", 1
        while True:
            done = run_in_slot(
                slot,
                self.job(task, self.out / RUNS_DIR / task.id),
                needs_display=self.needs_display(task),
                kill_margin=o.kill_margin,
                log=log,
                log_shown=str(log),
                more=not self.tasks.empty() and not self.stopping.is_set(),
            )
            if not done.retry or attempt > o.retries or self.stopping.is_set():
                return final_result(done, attempt)
            self.events.put(("retry", task, done.result))
            attempt += 1

    def _note_dbus(self, slot: Slot, todo: list[Task]) -> None:
        if not slot.has_dbus and any(self.needs_display(t) for t in todo):
            self.progress.note(
                "dbus-run-session not found: episodes share no D-Bus session "
                "of their own (apt-get install dbus-daemon)"
            )


def display_needs() -> Callable[[Task], bool]:
    """Whether a task needs a virtual display: as its ``needs`` says, else as its environment
    does; unknown environments do not (their worker fails at once, naming those that exist)."""
    from cradle.environment import discover_environments

    known = {name: info.cls.needs_display for name, info in discover_environments().items()}
    return lambda task: (
        task.needs.display if task.needs.display is not None else known.get(task.environment, False)
    )


def final_result(attempt: Attempt, tries: int) -> EvalResult:
    """The line of a task's last attempt; a crash after retries says how many attempts."""
    result = attempt.result
    if attempt.retry and tries > 1:
        return result.model_copy(update={"error": f"{result.error} ({tries} attempts)"})
    return result
