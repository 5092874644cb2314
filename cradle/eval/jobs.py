"""What the harness sends a worker (a job, JSON on stdin) and what comes back (a result line).

A result line is also what ``results.jsonl`` holds, one per task: the same object travels
from the worker to the file unchanged, so a field is added in one place.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from cradle.types import CheckResult, Record, Task

EvalMode = Literal["model", "reference", "noop"]
"""model: the configured model drives; reference: the task's reference steps are replayed;
noop: done at once, no action (the checker must fail on the untouched start)."""

MAX_RESULT_BYTES = 1_000_000
"""A worker's result line is at most this long (checker details are bounded far below)."""


class EvalJob(BaseModel):
    """One episode for a worker: the task, how to drive it, where its run folder goes."""

    task: Task
    mode: EvalMode = "model"
    runs_dir: str
    model: dict[str, Any] = Field(default_factory=dict)
    """``ModelSettings`` as JSON (mode ``model`` only)."""
    agent: dict[str, Any] = Field(default_factory=dict)
    """``AgentSettings`` fields given on the command line (the task sets steps and time)."""
    source: str = ""
    """The task's file: ``Task.source`` is not part of the task's JSON, and setup needs it
    (``CRADLE_TASK_DIR``, for scripts shipped beside the task)."""
    memory: dict[str, Any] | None = None
    """``MemorySettings`` as JSON: the long-term memory (and skill index) every episode of
    the suite shares, a Chroma server (or a folder, with one worker); None: none."""
    skills: list[str] = Field(default_factory=list)
    """Sources of the skills promoted so far (:mod:`cradle.eval.fleet`): the episode loads
    them as untrusted skills, so a worker needs no copy of the driver's folder."""

    @classmethod
    def of(cls, task: Task, **fields: Any) -> EvalJob:
        return cls(task=task, source=task.source, **fields)

    def full_task(self) -> Task:
        """The task as loaded, with the file it came from."""
        return self.task.model_copy(update={"source": self.source})


class EvalResult(Record):
    """One task's outcome: the checker's verdict with what the episode cost."""

    id: str
    success: bool
    checks: list[CheckResult] = Field(default_factory=list)
    steps: int = 0
    model_calls: int = 0
    tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0
    """The episode itself in the worker (setup to verdict); wall time for a killed worker."""
    run_dir: str = ""
    error: str | None = None
    """Why the task could not be judged normally (setup failed, the episode crashed, hung,
    or ended other than by the model's "done"); None when it ran and was judged."""
    environment: str = ""
    node: str = ""
    """The Ray node that ran the task (its node id); empty when it ran on this machine."""
    skills: list[str] = Field(default_factory=list, exclude=True)
    """Sources of the skills the episode accepted, for the driver to promote if the task
    passed: in the worker's line (:meth:`wire_json`), never in results.jsonl."""

    def wire_json(self) -> str:
        """The worker's line: the result with the skills its episode proposed."""
        return json.dumps(
            {**self.model_dump(mode="json"), "skills": self.skills}, ensure_ascii=False
        )

    @classmethod
    def failed(
        cls, task: Task, error: str, *, seconds: float = 0.0, run_dir: str = ""
    ) -> EvalResult:
        return cls(
            id=task.id,
            environment=task.environment,
            success=False,
            error=error,
            seconds=round(seconds, 3),
            run_dir=run_dir,
        )
