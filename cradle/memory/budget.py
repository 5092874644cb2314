"""How much recalled memory a prompt may carry, in rough tokens."""

from __future__ import annotations

import math
from collections.abc import Sequence

from cradle.types import MemoryItem


def estimate_tokens(text: str) -> int:
    """Tokens in ``text``, roughly: four characters a token is close enough for budgeting."""
    return math.ceil(len(text) / 4)


def fit_to_budget(items: Sequence[MemoryItem], max_tokens: int) -> list[MemoryItem]:
    """The items, best first as given, that fit in ``max_tokens`` together.

    An item too large for what is left is skipped and smaller ones after it may still fit:
    recalled memory is a hint for the model, so a prompt must never grow because of it.
    """
    kept: list[MemoryItem] = []
    used = 0
    for item in items:
        cost = estimate_tokens(item.text)
        if used + cost <= max_tokens:
            kept.append(item)
            used += cost
    return kept
