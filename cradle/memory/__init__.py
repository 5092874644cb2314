"""Long-term memory: a vector store of past steps, lessons, runs and skills.

Importing this package loads nothing but itself: neither chromadb nor a model, nor numpy;
each name below is imported from its module when first asked for (``cradle --help`` and
``cradle memory --help`` stay fast).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cradle.memory.budget import estimate_tokens, fit_to_budget
    from cradle.memory.client import default_memory_dir
    from cradle.memory.embedders import (
        Embedder,
        EmbedderChoice,
        HashingEmbedder,
        MiniLMEmbedder,
        OpenAIEmbedder,
        default_embedder,
        select_embedder,
    )
    from cradle.memory.skill_index import InMemorySkillIndex, SkillIndex, SkillSyncResult
    from cradle.memory.store import VectorMemory, open_memory

_WHERE = {
    "Embedder": "embedders",
    "EmbedderChoice": "embedders",
    "HashingEmbedder": "embedders",
    "MiniLMEmbedder": "embedders",
    "OpenAIEmbedder": "embedders",
    "default_embedder": "embedders",
    "select_embedder": "embedders",
    "InMemorySkillIndex": "skill_index",
    "SkillIndex": "skill_index",
    "SkillSyncResult": "skill_index",
    "VectorMemory": "store",
    "default_memory_dir": "client",
    "estimate_tokens": "budget",
    "fit_to_budget": "budget",
    "open_memory": "store",
}

__all__ = [
    "Embedder",
    "EmbedderChoice",
    "HashingEmbedder",
    "InMemorySkillIndex",
    "MiniLMEmbedder",
    "OpenAIEmbedder",
    "SkillIndex",
    "SkillSyncResult",
    "VectorMemory",
    "default_embedder",
    "default_memory_dir",
    "estimate_tokens",
    "fit_to_budget",
    "open_memory",
    "select_embedder",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
