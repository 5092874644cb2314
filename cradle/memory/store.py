"""Long-term memory in chromadb: past steps, lessons and run summaries, searchable by meaning.

One class, ``VectorMemory``, works the same on an embedded store (a folder, the default) and
on a shared ``chroma run`` server: only the client differs (:mod:`cradle.memory.client`), so
every behaviour is tested on both. The collections and the embedder's identity are handled by
:mod:`cradle.memory.chroma`, the texts a step is remembered as by :mod:`cradle.memory.steps`;
the skill index kept in the same store is :mod:`cradle.memory.skill_index`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cradle.memory.chroma import (
    MEMORIES,
    SKILLS,
    ChromaCollections,
    close_client,
    recorded_embedders,
)
from cradle.memory.client import default_memory_dir, make_client, query_collection
from cradle.memory.skill_index import SkillIndex
from cradle.memory.steps import FIELD_CHARS, clip, memory_id, step_subtask, step_success, step_text
from cradle.types import MemoryItem, StepRecord, utc_now

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from cradle.memory.embedders import Embedder


class VectorMemory:
    """Steps, lessons and run summaries, searchable by meaning; a ``LongTermMemory``.

    ``embedder=None`` opens a store for bookkeeping only (stats, forget, wipe): whatever
    embedder built it is accepted, and anything that needs a vector raises.
    """

    def __init__(
        self,
        client: ClientAPI,
        *,
        embedder: Embedder | None,
        environment: str = "",
        location: str = "",
        remote: bool = False,
    ) -> None:
        self.chroma = ChromaCollections(client, embedder=embedder, location=location, remote=remote)
        self.environment = environment
        self._last_subtask: dict[str, tuple[int, str]] = {}
        self._query_vectors: dict[str, np.ndarray] = {}

    @property
    def embedder(self) -> Embedder | None:
        """The embedder the store's vectors come from (None: bookkeeping only)."""
        return self.chroma.embedder

    @property
    def location(self) -> str:
        """Where the store is (a folder or a server URL), for messages."""
        return self.chroma.location

    # ---------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        memory_dir: Path | None = None,
        memory_url: str | None = None,
        *,
        embedder: Embedder | None,
        environment: str = "",
        create: bool = True,
    ) -> VectorMemory:
        """Open the store in a folder or on a server; see ``make_client``."""
        client, location = make_client(memory_dir, memory_url, create=create)
        return cls.on_client(
            client,
            location,
            remote=memory_url is not None,
            embedder=embedder,
            environment=environment,
        )

    @classmethod
    def on_client(
        cls,
        client: ClientAPI,
        location: str,
        *,
        remote: bool,
        embedder: Embedder | None,
        environment: str = "",
    ) -> VectorMemory:
        """The store behind an open client, its collections checked against ``embedder``;
        the client is closed when that fails."""
        memory = cls(
            client, embedder=embedder, environment=environment, location=location, remote=remote
        )
        if embedder is not None:
            try:
                with memory.chroma.guard("opening the collections"):
                    memory.chroma.collection(MEMORIES)
            except BaseException:
                memory.close()
                raise
        return memory

    def close(self) -> None:
        """Release the client (sqlite handles, HTTP connections); safe to call twice."""
        self.chroma.close()

    def __enter__(self) -> VectorMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- writing

    def add(
        self,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
        ids: Sequence[str],
        *,
        embeddings: np.ndarray | Sequence[Sequence[float]] | None = None,
        collection: str = MEMORIES,
    ) -> int:
        """Upsert many memories in chunks below chromadb's batch limit; returns the count.

        Texts are embedded chunk by chunk unless ``embeddings`` are given (the benchmark
        passes precomputed vectors). Same ids replace earlier entries.
        """
        if not (len(texts) == len(metadatas) == len(ids)):
            raise ValueError("texts, metadatas and ids must have the same length")
        if embeddings is not None and len(embeddings) != len(texts):
            raise ValueError("embeddings and texts must have the same length")
        if not texts:
            return 0
        with self.chroma.guard("adding memories"):
            self.chroma.upsert(collection, texts, metadatas, ids, embeddings)
        return len(texts)

    def _base_metadata(self, kind: str, task: str, run_id: str, step: int) -> dict[str, Any]:
        return {
            "kind": kind,
            "environment": self.environment,
            "task": clip(task, 200),
            "run_id": run_id,
            "step": step,
            "time": utc_now().isoformat(),
        }

    def remember_step(self, task: str, record: StepRecord) -> None:
        """Store a finished step, and a lesson when self-reflection names a failure."""
        self.remember_steps([(task, record)])

    def remember_steps(self, steps: Sequence[tuple[str, StepRecord]]) -> None:
        """Store finished steps (task, record) in one upsert; see ``_step_entries``.

        One upsert of several steps costs about as much as one of a single step, and
        chromadb folds each write into its index on the next query: the loop writes steps in
        batches (the recent-steps window holds them meanwhile).
        """
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        for task, record in steps:
            entry = self._step_entries(task, record)
            texts += entry[0]
            metas += entry[1]
            ids += entry[2]
            vectors += entry[3]
        if texts:
            self.add(texts, metas, ids, embeddings=np.stack(vectors))

    def _step_entries(
        self, task: str, record: StepRecord
    ) -> tuple[list[str], list[dict[str, Any]], list[str], list[np.ndarray]]:
        """The memories of one step: the step itself, and a lesson when it names a failure.

        A step is indexed by its situation, "task subtask": the very key the loop recalls
        with, so later runs in a similar situation find what was done in it, and the next
        step's recall reuses this embedding instead of computing another (one MiniLM call
        per step instead of two). Self-reflection judges the previous step's actions, so the
        lesson names the subtask of that step when this process saw it (else the current one).
        """
        subtask = step_subtask(record)
        success = step_success(record)
        meta = self._base_metadata("step", task, record.run_id, record.step)
        meta.update(success=success, subtask=clip(subtask, 200), time=record.ended_at.isoformat())
        texts = [step_text(task, record)]
        metas = [meta]
        ids = [memory_id("step", record.run_id, record.step)]
        vectors = [self._query_vector(f"{task} {subtask}".strip())]
        reflection = record.self_reflection
        if reflection and not reflection.last_actions_succeeded and reflection.failure_reason:
            previous = self._last_subtask.get(record.run_id)
            when = previous[1] if previous and previous[0] == record.step - 1 else subtask
            when = when or f"working on {task}"
            lesson_meta = self._base_metadata("lesson", task, record.run_id, record.step)
            lesson_meta.update(success=False, subtask=clip(when, 200))
            lesson = f"When {clip(when, 200)}: {clip(reflection.failure_reason)}"
            texts.append(lesson)
            metas.append(lesson_meta)
            ids.append(memory_id("lesson", record.run_id, record.step))
            vectors.append(self.chroma.vectors([lesson])[0])
        self._last_subtask[record.run_id] = (record.step, subtask)
        return texts, metas, ids, vectors

    def remember_run(self, task: str, run_id: str, summary: str, success: bool) -> None:
        """Store how a whole run went, one entry per run id."""
        meta = self._base_metadata("run", task, run_id, -1)
        meta["success"] = bool(success)
        text = f"Task: {clip(task)}\nRun {'succeeded' if success else 'failed'}: {summary}"
        self.add([clip(text, 4 * FIELD_CHARS)], [meta], [memory_id("run", run_id)])

    # ---------------------------------------------------------------- reading

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        environment: str | None = None,
        kinds: Sequence[str] | None = None,
        min_score: float | None = None,
    ) -> list[MemoryItem]:
        """The ``k`` memories closest in meaning to ``query``, best first.

        ``score`` is cosine similarity (1 is identical). Filters narrow by environment and
        kind; each filter costs a metadata scan in chromadb, so none is applied by default.
        """
        if k <= 0 or not query.strip():
            return []
        return self.search_vector(
            self._query_vector(query), k, environment=environment, kinds=kinds, min_score=min_score
        )

    def _query_vector(self, query: str) -> np.ndarray:
        """The embedding of ``query``, cached: the loop asks with "task subtask" every step,
        the subtask rarely changes, and steps are stored under the same key."""
        self.chroma.require_embedder()
        vector = self._query_vectors.get(query)
        if vector is None:
            with self.chroma.guard("embedding the query"):
                vector = self.chroma.vectors([query])[0]
            if len(self._query_vectors) >= 64:
                self._query_vectors.pop(next(iter(self._query_vectors)))
            self._query_vectors[query] = vector
        return vector

    def search_vector(
        self,
        vector: np.ndarray | Sequence[float],
        k: int = 5,
        *,
        environment: str | None = None,
        kinds: Sequence[str] | None = None,
        min_score: float | None = None,
    ) -> list[MemoryItem]:
        """``search`` with a ready query vector (the benchmark times the store alone)."""
        if k <= 0:
            return []
        with self.chroma.guard("searching"):
            collection = self.chroma.collection(MEMORIES, create=self.embedder is not None)
            if collection is None:
                return []
            clauses: list[dict[str, Any]] = []
            if environment is not None:
                clauses.append({"environment": environment})
            if kinds:
                clauses.append({"kind": {"$in": list(kinds)}})
            where = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)
            result = query_collection(
                collection,
                query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        return _memory_items(result, min_score)

    def recall(
        self,
        query: str,
        *,
        k: int,
        environment: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[MemoryItem]:
        """``LongTermMemory.recall``: the best ``k`` memories for this situation."""
        return self.search(query, k, environment=environment, kinds=kinds)

    def stats(self) -> dict[str, Any]:
        """Counts by kind, distinct runs and skills, the embedder and where the store is."""
        with self.chroma.guard("counting"):
            memories = self.chroma.collection(MEMORIES, create=False)
            skills = self.chroma.collection(SKILLS, create=False)
            kinds: Counter[str] = Counter()
            runs: set[str] = set()
            environments: Counter[str] = Counter()
            if memories is not None:
                for _, meta in self.chroma.all_metadata(memories):
                    kinds[str(meta.get("kind", "?"))] += 1
                    if meta.get("run_id"):
                        runs.add(str(meta["run_id"]))
                    environments[str(meta.get("environment", ""))] += 1
            stored = memories or skills
            stored_meta = (stored.metadata or {}) if stored is not None else {}
            return {
                "location": self.location,
                "embedder": stored_meta.get("embedder")
                or (self.embedder.name if self.embedder else None),
                "dimension": stored_meta.get("dimension")
                or (self.embedder.dimension if self.embedder else None),
                "memories": sum(kinds.values()),
                "by_kind": dict(sorted(kinds.items())),
                "runs": len(runs),
                "environments": dict(sorted(environments.items())),
                "skills": skills.count() if skills is not None else 0,
            }

    # ---------------------------------------------------------------- forgetting

    def forget_run(self, run_id: str) -> int:
        """Delete every memory of one run; returns how many were deleted."""
        with self.chroma.guard("forgetting a run"):
            collection = self.chroma.collection(MEMORIES, create=False)
            if collection is None:
                return 0
            ids = [
                item_id for item_id, _ in self.chroma.all_metadata(collection, {"run_id": run_id})
            ]
            size = self.chroma.chunk_size()
            for start in range(0, len(ids), size):
                collection.delete(ids=ids[start : start + size])
        self._last_subtask.pop(run_id, None)
        return len(ids)

    def wipe(self) -> int:
        """Delete both collections (memories and skills); returns how many entries went."""
        with self.chroma.guard("wiping"):
            removed = sum(self.chroma.drop(name) for name in (MEMORIES, SKILLS))
        self._last_subtask.clear()
        return removed

    # ---------------------------------------------------------------- skills

    @property
    def skills(self) -> SkillIndex:
        """The skill index kept in the same store."""
        return SkillIndex(self.chroma)


def _memory_items(result: dict[str, Any], min_score: float | None) -> list[MemoryItem]:
    """A chromadb query result as memories, best first, those below ``min_score`` left out."""
    items = []
    ids = result["ids"][0]
    documents = (result.get("documents") or [[]])[0]
    metadatas = (result.get("metadatas") or [[]])[0]
    distances = (result.get("distances") or [[]])[0]
    for item_id, text, meta, distance in zip(ids, documents, metadatas, distances, strict=True):
        score = 1.0 - float(distance)
        if min_score is not None and score < min_score:
            continue
        meta = dict(meta or {})
        meta["id"] = item_id
        items.append(
            MemoryItem(
                text=text or "",
                kind=str(meta.get("kind", "step")),
                score=round(score, 4),
                metadata=meta,
            )
        )
    return items


def open_memory(
    memory_dir: Path | None = None,
    memory_url: str | None = None,
    *,
    environment: str = "",
    embedder: Embedder | None = None,
    kind: str = "auto",
    on_note: Callable[[str], None] | None = None,
    create: bool = True,
) -> VectorMemory:
    """The long-term memory a run (or the CLI) uses.

    A server URL wins over a folder; with neither, the default folder. Without an embedder,
    one of ``kind`` (see ``select_embedder``) chosen for the store before any vector is
    computed: MiniLM with the precision the store was built with, unless
    ``CRADLE_MINILM_PRECISION`` says otherwise. ``on_note`` hears why a choice is not the usual
    one (hashing because MiniLM is missing, float32 for an older store).
    """
    folder = None if memory_url else memory_dir or default_memory_dir()
    client, location = make_client(folder, memory_url or None, create=create)
    remote = bool(memory_url)
    if embedder is None:
        try:
            embedder = _embedder_for(client, location, remote=remote, kind=kind, on_note=on_note)
        except BaseException:
            close_client(client)
            raise
    return VectorMemory.on_client(
        client, location, remote=remote, embedder=embedder, environment=environment
    )


def _embedder_for(
    client: ClientAPI,
    location: str,
    *,
    remote: bool,
    kind: str,
    on_note: Callable[[str], None] | None,
) -> Embedder:
    """The embedder of ``kind`` that fits what the store's collections recorded."""
    from cradle.memory.embedders import select_embedder

    recorded = recorded_embedders(client, location, remote=remote)
    choice = select_embedder(kind, recorded=recorded.values())
    if choice.warning and on_note is not None:
        on_note(choice.warning)
    return choice.embedder
