"""What ``cradle eval`` (or ``cradle run --tasks-file``) was asked to do, as one value.

Kept apart from the harness that acts on it, so the schedulers (local and Ray) read the same
options without importing the harness that picks between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cradle.eval.jobs import EvalMode
from cradle.types import Task

KILL_MARGIN = 60.0
"""Seconds a worker gets beyond its task's ``timeout`` (start, setup, checks, report) before
it is killed as hung."""


@dataclass
class EvalOptions:
    """What ``cradle eval`` was asked to do."""

    paths: list[Path] = field(default_factory=list)
    """Task files or folders; empty for the shipped suite."""
    out: Path = Path("eval-results")
    workers: int = 1
    resume: bool = False
    mode: EvalMode = "model"
    model: dict[str, Any] = field(default_factory=dict)
    agent: dict[str, Any] = field(default_factory=dict)
    kill_margin: float = KILL_MARGIN
    memory: dict[str, Any] | None = None
    """``MemorySettings`` as JSON for every episode (cradle.eval.fleet); None: no memory."""
    generated_skills_dir: Path | None = None
    """The user's folder of promoted skills (episodes load it); None: OUT/generated_skills,
    which only collects them."""
    retries: int = 1
    """More attempts for a task whose worker crashed (or whose Ray node was lost)."""
    ray: str | None = None
    """A Ray cluster's address (``auto``: Ray's own discovery): run there, not locally."""
    shared_out: Path | None = None
    """With ``ray``: a folder every node sees at this path; run folders are written there
    instead of coming back to ``out``."""
    tasks: list[Task] | None = None
    """Tasks made in memory (``cradle run --tasks-file``) instead of task files."""
