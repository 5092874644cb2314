"""Long-term memory: a vector store of past steps, lessons, runs and skills.

Importing this package loads neither chromadb nor a model; both happen on first use.
"""

from cradle.memory.embedders import (
    Embedder,
    EmbedderChoice,
    HashingEmbedder,
    MiniLMEmbedder,
    OpenAIEmbedder,
    default_embedder,
    select_embedder,
)
from cradle.memory.skill_index import SkillIndex, SkillSyncResult
from cradle.memory.store import (
    VectorMemory,
    default_memory_dir,
    estimate_tokens,
    fit_to_budget,
    open_memory,
)

__all__ = [
    "Embedder",
    "EmbedderChoice",
    "HashingEmbedder",
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
