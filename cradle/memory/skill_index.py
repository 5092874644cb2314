"""The skill index: skill descriptions by meaning, kept in the memory store's own collection.

It is what the prompt's skill list is ranked with (:mod:`cradle.skills.ranking`) when a run
has a memory store; several processes may share it (the workers of ``cradle eval`` on one
Chroma server).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cradle.memory.store import SKILLS, query_collection

if TYPE_CHECKING:
    from cradle.memory.store import VectorMemory


@dataclass(frozen=True)
class SkillSyncResult:
    """What ``SkillIndex.sync`` changed."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


class SkillIndex:
    """Skill descriptions by meaning, so the prompt lists the skills that matter now.

    Several processes may use one index at once (every worker of ``cradle eval`` on one
    Chroma server), each with its own set of skills: an entry is keyed by the skill's name
    *and* the hash of its text (and embedder), ``sync`` only adds what is missing and never
    deletes another process's entries, and ``rank`` ranks over this index's own set (the
    last one synced; everything before the first sync). ``sync`` is cheap when nothing
    changed: only missing entries are embedded. Entries no set uses any more stay (one small
    entry per distinct description) until ``cradle memory forget --all``.
    """

    def __init__(self, memory: VectorMemory) -> None:
        self.memory = memory
        self._ids: dict[str, str] | None = None
        """Skill name -> entry id of the set last synced (None before the first sync)."""

    @staticmethod
    def _hash(text: str, embedder_name: str) -> str:
        return hashlib.sha256(f"{embedder_name}\n{text}".encode()).hexdigest()[:20]

    def sync(self, skills: dict[str, str]) -> SkillSyncResult:
        """Make this index rank over exactly ``skills`` (name -> description text); the
        counts compare with the set synced before through this object."""
        embedder = self.memory._require_embedder()
        hashes = {name: self._hash(text, embedder.name) for name, text in skills.items()}
        ids = {name: f"{name}@{digest}" for name, digest in hashes.items()}
        present: set[str] = set()
        with self.memory._guard("syncing skills"):
            collection = self.memory._collection(SKILLS)
            assert collection is not None
            wanted = list(ids.values())
            size = self.memory._chunk_size()
            for start in range(0, len(wanted), size):
                found = collection.get(ids=wanted[start : start + size], include=[])
                present.update(found["ids"])
        missing = [name for name in skills if ids[name] not in present]
        if missing:
            self.memory.add(
                [skills[name] for name in missing],
                [{"kind": "skill", "skill": name, "hash": hashes[name]} for name in missing],
                [ids[name] for name in missing],
                collection=SKILLS,
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
        with self.memory._guard("ranking skills"):
            collection = self.memory._collection(SKILLS)
            assert collection is not None
            vector = self.memory._vectors([query])
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
