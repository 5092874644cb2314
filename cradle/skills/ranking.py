"""Which skills the planner sees: the common ones always, the rest ranked by meaning.

A library of hundreds of skills would flood the prompt. The skills from the shared folder
(click, type_text, ...) are always shown; the others are ranked by embedding similarity of
their summary and signature to the task and subtask, and the ``top_k`` best are shown. The
index is either the vector store's skill collection or a small in-process one; both take the
same ``sync``/``rank`` calls (:mod:`cradle.memory.skill_index`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cradle.memory.skill_index import SkillIndexLike
    from cradle.skills.registry import SkillRegistry


def skill_text(registry: SkillRegistry, name: str) -> str:
    """What a skill is indexed by: its name, summary and signature."""
    found = registry.get(name)
    return f"{name.replace('_', ' ')}: {found.summary} {found.signature()}" if found else name


class SkillRanker:
    """Chooses the skills for one prompt."""

    def __init__(self, index: SkillIndexLike, *, always_on: Iterable[str], top_k: int = 8):
        self.index = index
        self.always_on = frozenset(always_on)
        self.top_k = top_k
        self._synced: dict[str, str] | None = None

    def select(self, registry: SkillRegistry, allowed: list[str], query: str) -> list[str]:
        """``allowed`` narrowed to the always-on skills plus the ``top_k`` best for ``query``."""
        others = [name for name in allowed if name not in self.always_on]
        if len(others) <= self.top_k:
            return allowed
        texts = {name: skill_text(registry, name) for name in others}
        if texts != self._synced:
            self.index.sync(texts)
            self._synced = texts
        chosen = set(self.index.rank(query, k=self.top_k))
        return [name for name in allowed if name in self.always_on or name in chosen]
