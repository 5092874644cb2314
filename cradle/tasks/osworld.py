"""OSWorld-style task JSON, translated into cradle tasks where the two formats meet."""

from __future__ import annotations

from typing import Any


def translate(item: dict[str, Any], *, source: str) -> tuple[dict[str, Any] | None, str]:
    """A cradle task mapping for ``item``, or ``None`` and why it cannot be translated."""
    return None, "OSWorld tasks are not translated yet"
