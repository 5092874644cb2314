"""The skill index: skill descriptions searchable by meaning.

It is what the prompt's skill list is ranked with (:mod:`cradle.skills.ranking`). Two
implementations take the same ``sync``/``rank`` calls: :class:`SkillIndex` in the memory
store's own collection, which several processes may share (the workers of ``cradle eval`` on
one Chroma server), and :class:`InMemorySkillIndex`, a numpy matrix for runs without a store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from cradle.memory.chroma import SKILLS
from cradle.memory.client import query_collection

if TYPE_CHECKING:
    from cradle.memory.chroma import ChromaCollections
    from cradle.memory.embedders import Embedder


class SkillIndexLike(Protocol):
    """What ranks skills: sync the set of skills (name -> description), then rank it."""

    def sync(self, skills: dict[str, str]) -> Any: ...

    def rank(self, query: str, k: int = 5) -> list[str]: ...


@dataclass(frozen=True)
class SkillSyncResult:
    """What ``SkillIndex.sync`` changed."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


class SkillIndex:
    """Skill descriptions by meaning in a memory store, so the prompt lists the skills that
    matter now.

    Several processes may use one index at once (every worker of ``cradle eval`` on one
    Chroma server), each with its own set of skills: an entry is keyed by the skill's name
    *and* the hash of its text (and embedder), ``sync`` only adds what is missing and never
    deletes another process's entries, and ``rank`` ranks over this index's own set (the
    last one synced; everything before the first sync). ``sync`` is cheap when nothing
    changed: only missing entries are embedded. Entries no set uses any more stay (one small
    entry per distinct description) until ``cradle memory forget --all``.
    """

    def __init__(self, chroma: ChromaCollections) -> None:
        self._chroma = chroma
        self._ids: dict[str, str] | None = None
        """Skill name -> entry id of the set last synced (None before the first sync)."""

    @staticmethod
    def _hash(text: str, embedder_name: str) -> str:
        return hashlib.sha256(f"{embedder_name}\n{text}".encode()).hexdigest()[:20]

    def sync(self, skills: dict[str, str]) -> SkillSyncResult:
        """Make this index rank over exactly ``skills`` (name -> description text); the
        counts compare with the set synced before through this object."""
        embedder = self._chroma.require_embedder()
        hashes = {name: self._hash(text, embedder.name) for name, text in skills.items()}
        ids = {name: f"{name}@{digest}" for name, digest in hashes.items()}
        with self._chroma.guard("syncing skills"):
            present = self._chroma.present(SKILLS, list(ids.values()))
        missing = [name for name in skills if ids[name] not in present]
        if missing:
            with self._chroma.guard("adding memories"):
                self._chroma.upsert(
                    SKILLS,
                    [skills[name] for name in missing],
                    [{"kind": "skill", "skill": name, "hash": hashes[name]} for name in missing],
                    [ids[name] for name in missing],
                )
        before = self._ids or {}
        self._ids = ids
        added = sum(1 for name in skills if name not in before)
        updated = sum(1 for name in skills if name in before and before[name] != ids[name])
        return SkillSyncResult(
            added=added,
            updated=updated,
            removed=sum(1 for name in before if name not in skills),
            unchanged=len(skills) - added - updated,
        )

    def rank(self, query: str, k: int = 5) -> list[str]:
        """Names of the ``k`` skills of this index's set whose descriptions best match."""
        if k <= 0 or not query.strip():
            return []
        if self._ids is not None and not self._ids:
            return []
        own = list(self._ids.values()) if self._ids else None
        with self._chroma.guard("ranking skills"):
            collection = self._chroma.collection(SKILLS)
            assert collection is not None
            vector = self._chroma.vectors([query])
            result = query_collection(
                collection, query_embeddings=vector, n_results=k, ids=own, include=["metadatas"]
            )
        names = [
            str((meta or {}).get("skill") or item_id)
            for item_id, meta in zip(
                result["ids"][0], (result["metadatas"] or [[]])[0], strict=False
            )
        ]
        return list(dict.fromkeys(names))


class InMemorySkillIndex:
    """Skill vectors in a numpy matrix: for runs without a vector store."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._texts: dict[str, str] = {}
        self._names: list[str] = []
        self._matrix: np.ndarray | None = None

    def sync(self, skills: dict[str, str]) -> None:
        """Embed ``skills`` (name -> description) unless they are the set embedded last."""
        if skills == self._texts:
            return
        self._texts = dict(skills)
        self._names = list(skills)
        self._matrix = self.embedder.embed(list(skills.values())) if skills else None

    def rank(self, query: str, k: int = 5) -> list[str]:
        """Names of the ``k`` skills whose descriptions best match ``query``."""
        if self._matrix is None or k <= 0 or not query.strip():
            return []
        scores = self._matrix @ self.embedder.embed([query])[0]
        return [self._names[i] for i in np.argsort(-scores)[:k]]
