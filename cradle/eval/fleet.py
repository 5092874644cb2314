"""What the episodes of a suite share: one long-term memory and one folder of promoted skills.

Memory: every worker opens the store its job names, ``--memory-url`` (a ``chroma run``
server that workers on any machine reach) or ``--memory-dir`` (a folder, with one worker
only: chromadb's embedded store is not safe for several processes). Episodes remember and
recall through it as ``cradle run`` does, each memory tagged with the episode's environment;
the skill index lives in the same store. Without either flag an eval has no long-term
memory, so each task's result depends on that task alone.

Skills: a worker never writes the shared folder. An episode keeps the skills it accepts in
its own run folder; the worker sends their sources back in its result line (at most
:data:`MAX_PROPOSED_SKILLS`, :data:`MAX_PROPOSED_BYTES` in all) and the driver alone checks
them again and promotes them into the folder (:mod:`cradle.skills.promotion`), only when the
task's checker passed. With the user's own ``--generated-skills-dir``, each job also carries
the sources promoted so far (at most :data:`MAX_SHARED_BYTES`), which its episode loads as
untrusted skills; the default folder (``OUT/generated_skills``) only collects them. Both
directions travel in the job and result JSON, so a worker needs nothing local.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cradle.errors import ConfigError, UsageError
from cradle.eval.jobs import EvalResult
from cradle.skills.checker import MAX_SOURCE_CHARS
from cradle.skills.promotion import promote, skill_sources
from cradle.types import Task

MAX_PROPOSED_SKILLS = 16
"""Skills of one episode a worker sends back; an episode that wrote more keeps the rest in
its run folder."""
MAX_PROPOSED_BYTES = 400_000
"""Their JSON-encoded size in all, well within a result line (``MAX_RESULT_BYTES``, 1 MB)."""
MAX_SHARED_BYTES = 1_000_000
"""Promoted sources sent with each job, within the job's bound (``MAX_JOB_BYTES``, 2 MB);
the rest (in file name order) are not loaded, and summary.json counts them."""
GENERATED_SKILLS_DIR = "generated_skills"
"""The default shared folder, inside ``--out``."""
MAX_SUMMARY_BYTES = 50_000_000
_RECEIVED_HEADER = "# Skill source received with an eval job or result.\n\n"


def bounded(
    sources: Iterable[str], *, size: int, count: int | None = None
) -> tuple[list[str], int]:
    """The first sources that fit ``count`` and ``size`` (JSON-encoded bytes), and how many
    did not; a source longer than the checker accepts never fits."""
    kept: list[str] = []
    dropped = used = 0
    for source in sources:
        cost = len(json.dumps(source, ensure_ascii=False).encode())
        full = count is not None and len(kept) >= count
        if full or used + cost > size or len(source) > MAX_SOURCE_CHARS:
            dropped += 1
            continue
        kept.append(source)
        used += cost
    return kept, dropped


def write_sources(sources: Iterable[str], folder: Path, prefix: str = "skill") -> Path:
    """Each source as a skill file of ``folder`` (names are ours, never the sender's)."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, source in enumerate(sources, start=1):
        (folder / f"{prefix}_{number:03d}.py").write_text(
            _RECEIVED_HEADER + source, encoding="utf-8"
        )
    return folder


# --------------------------------------------------------------------------- memory


def check_memory(memory: dict[str, Any] | None, workers: int) -> None:
    """One usage error before any task runs: a folder for several workers, or a store that
    cannot be used (an unreachable server, a folder that is not a store)."""
    if not memory:
        return
    url, folder = memory.get("memory_url"), memory.get("memory_dir")
    if folder and workers > 1:
        raise UsageError(
            "--memory-dir cannot be shared by several workers (chromadb's embedded store is "
            "not safe for several processes): use --memory-url with a `chroma run` server, "
            "or --workers 1"
        )
    from cradle.memory.client import check_memory_folder
    from cradle.memory.store import VectorMemory

    if url:
        VectorMemory.open(None, url, embedder=None).close()  # raises a one-line error
    elif folder:
        check_memory_folder(Path(folder))


def memory_place(memory: dict[str, Any] | None) -> str | None:
    """Where the suite's memory is (summary.json's ``memory``); None without memory."""
    if not memory:
        return None
    return str(memory.get("memory_url") or memory.get("memory_dir") or "") or None


# --------------------------------------------------------------------------- skills


def shared_skills(folder: Path | None, out: Path) -> SharedSkills:
    """The user's folder (loaded by every episode) or OUT/generated_skills (collected only),
    checked to be usable before any task runs."""
    shared = SharedSkills(folder or out / GENERATED_SKILLS_DIR, load=folder is not None)
    try:
        shared.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot use --generated-skills-dir {shared.folder}: {exc.strerror or exc}"
        ) from None
    return shared


class SharedSkills:
    """The driver's side of the skills flow: the folder, and what became of each proposal.

    Only the driver's main thread promotes; slot threads only read the folder for jobs
    (a promoted file appears whole: it is written under a temporary name and renamed).
    """

    def __init__(self, folder: Path, *, load: bool) -> None:
        self.folder = folder
        self.load = load
        """Send the promoted skills with each job (the user's folder), or only collect."""
        self.tasks: dict[str, dict[str, list[str]]] = {}
        """Task id -> ``promoted`` file names and ``skipped`` reasons (tasks that proposed)."""
        self.not_sent = 0

    def for_job(self) -> list[str]:
        """The sources an episode loads: what has been promoted, within the job's bound."""
        if not self.load:
            return []
        sources, self.not_sent = bounded(skill_sources(self.folder), size=MAX_SHARED_BYTES)
        return sources

    def take(self, task: Task, result: EvalResult) -> None:
        """Promote the skills ``result`` carries if the task passed; record what happened."""
        if not result.skills:
            return
        sources, dropped = bounded(
            result.skills, count=MAX_PROPOSED_SKILLS, size=MAX_PROPOSED_BYTES
        )
        entry: dict[str, list[str]] = {"promoted": [], "skipped": []}
        if dropped:
            entry["skipped"].append(
                f"{dropped} skill(s): over the bound of what an episode may propose"
            )
        if not result.success:
            entry["skipped"] += [f"{_names(s)}: the task did not pass" for s in sources]
        else:
            run_id = Path(result.run_dir).name if result.run_dir else task.id
            try:
                with tempfile.TemporaryDirectory(prefix="cradle-proposed-") as scratch:
                    done = promote(
                        write_sources(sources, Path(scratch)),
                        self.folder,
                        run_id=run_id,
                        task=task.instruction,
                    )
            except OSError as exc:  # no temporary folder (a full disk): the result still counts
                entry["skipped"].append(f"not promoted: {exc.strerror or exc}")
            else:
                entry["promoted"] = [path.name for path in done.promoted]
                entry["skipped"] += done.refused
        self.tasks[task.id] = entry

    def resume(self, summary_path: Path, keep: Iterable[str]) -> None:
        """Keep the record of the tasks a resumed eval does not run again."""
        try:
            if summary_path.stat().st_size > MAX_SUMMARY_BYTES:
                return
            earlier = json.loads(summary_path.read_text(encoding="utf-8"))["skills"]["tasks"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        if isinstance(earlier, dict):
            for task_id in keep:
                if isinstance(earlier.get(task_id), dict):
                    self.tasks.setdefault(task_id, earlier[task_id])

    def summary(self) -> dict[str, Any]:
        """summary.json's ``skills``: the folder, whether episodes loaded it, per task."""
        return {
            "folder": str(self.folder),
            "loaded_by_episodes": self.load,
            "not_sent_to_episodes": self.not_sent,
            "tasks": dict(sorted(self.tasks.items())),
        }


def _names(source: str) -> str:
    from cradle.skills.curated import skill_names

    try:
        return ", ".join(skill_names(source)) or "a skill file"
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "a skill file that is not Python"
