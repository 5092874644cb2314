"""Size bounds on everything the model (or a skill) controls that a run stores, prints or re-sends.

A model reply can hold a 10 MB action or reasoning; without bounds it was stored three times
in its step, printed whole, and sent again in the next prompts. Here every string of a step
record gets a length limit and every list an item limit; what is cut keeps a visible marker
with the original size, e.g. ``…[truncated, 10485760 chars]`` or ``…[truncated, 500 items]``.

Callers redact secrets *before* bounding: a secret cut in half would no longer match its
redaction, so half of it would be kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pydantic import BaseModel

from cradle.skills.parser import MAX_ACTION_CHARS
from cradle.types import StepRecord

_MARK = re.compile(r"…\[truncated, (\d+) (chars|items)\]$")

M = TypeVar("M", bound=BaseModel)


def _marker(size: int, unit: str) -> str:
    return f"…[truncated, {size} {unit}]"


def shorten(text: str, limit: int, *, keep_tail: int = 0) -> str:
    """``text`` if it has at most ``limit`` characters, else its start (and ``keep_tail``
    characters of its end) around a marker with the original length; at most ``limit`` long.

    Shortening text that was already shortened keeps the first original length.
    """
    if len(text) <= limit:
        return text
    found = _MARK.search(text)
    original = int(found.group(1)) if found and found.group(2) == "chars" else len(text)
    marker = _marker(original, "chars")
    tail = text[len(text) - keep_tail :] if 0 < keep_tail < limit // 2 else ""
    head = max(0, limit - len(marker) - len(tail))
    return text[:head] + marker + tail


TEXT_LIMIT = 2000
"""Longest free text kept: a module output's text field, an error, a run's end reason."""


def shorten_items(items: list[str], limit: int) -> list[str]:
    """``items``, or its first ones and a last item saying how many there were: at most
    ``limit`` items (what the marker counts survives a second shortening)."""
    if len(items) <= limit:
        return items
    found = _MARK.fullmatch(items[-1])
    total = int(found.group(1)) if found and found.group(2) == "items" else len(items)
    return [*items[: limit - 1], _marker(total, "items")]


@dataclass(frozen=True)
class Limits:
    """Longest string and list a step record keeps, by kind of field."""

    text: int = TEXT_LIMIT
    """Each free-text field of a module output, each error, each item of a text list."""
    action: int | None = 2 * MAX_ACTION_CHARS
    """Each action string; longer ones are refused by the parser anyway."""
    skill_source: int | None = 20_000
    """Each proposed skill's source (the checker refuses longer ones)."""
    prompt: int = 32_000
    reply: int = 16_000
    prompt_tail: int = 2000
    """Kept from the end of a long prompt: the repair note that replay looks for is there."""
    items: int = 100
    line: int = 256 * 1024
    """A serialized step longer than this is bounded again with every limit divided by 8."""

    def tighter(self, factor: int = 8) -> Limits:
        """Every limit divided by ``factor`` (with a floor), for a line that is still too long."""

        def cut(value: int | None, floor: int = 200) -> int | None:
            return None if value is None else max(floor, value // factor)

        return replace(
            self,
            text=cut(self.text),
            action=cut(self.action),
            skill_source=cut(self.skill_source),
            prompt=cut(self.prompt),
            reply=cut(self.reply),
            items=cut(self.items, 10),
        )


RECORD_LIMITS = Limits()
MODULE_LIMITS = replace(RECORD_LIMITS, action=None, skill_source=None)
"""For module outputs within a step: the code that reads actions and skill sources needs them
whole to say why it refuses them (``the action is 10485760 characters long``)."""

_NOT_MODEL_LISTS = (("observation",), ("memory",))
"""Lists the loop builds itself (perception, recalled memory): sized by their own settings."""


_STRING_KINDS = {
    ("action_planning", "actions"): "action",
    ("actions", "source"): "action",
    ("skill_curation", "new_skills"): "skill_source",
    ("new_skills", "source"): "skill_source",
    ("model_calls", "prompt"): "prompt",
    ("model_calls", "reply"): "reply",
}


class _Walk:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.notes: list[str] = []

    def string_limit(self, path: tuple[str, ...]) -> tuple[int | None, int]:
        """The limit of the strings at ``path`` (field names, list positions left out)."""
        limits = self.limits
        kind = _STRING_KINDS.get(path, "text")
        return getattr(limits, kind), limits.prompt_tail if kind == "prompt" else 0

    def whole(self, path: tuple[str, ...]) -> bool:
        """Lists left whole: the actions and skill sources of MODULE_LIMITS."""
        kind = _STRING_KINDS.get(path)
        return kind is not None and getattr(self.limits, kind) is None

    def value(self, value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, str):
            limit, tail = self.string_limit(path)
            return value if limit is None else shorten(value, limit, keep_tail=tail)
        if isinstance(value, dict):
            return {key: self.value(item, (*path, str(key))) for key, item in value.items()}
        if isinstance(value, list | tuple):
            items = [self.value(item, path) for item in self.cut(list(value), path)]
            return tuple(items) if isinstance(value, tuple) else items
        return value

    def cut(self, items: list[Any], path: tuple[str, ...]) -> list[Any]:
        limit = self.limits.items
        if len(items) <= limit or path[:1] in _NOT_MODEL_LISTS or self.whole(path):
            return items
        if all(isinstance(item, str) for item in items):
            return shorten_items(items, limit)
        self.notes.append(f"trimmed: {'.'.join(path)} kept the first {limit} of {len(items)} items")
        return items[:limit]


def bound_output(output: M, module: str, notes: list[str] | None = None) -> M:
    """A module output with its text bounded, for the prompts later in the same step.

    Lists of objects that were cut are reported in ``notes``; actions and skill sources are
    left whole for the code that checks them (the step record bounds them).
    """
    walk = _Walk(MODULE_LIMITS)
    original = output.model_dump()
    data = walk.value(original, (module,))
    if notes is not None:
        notes.extend(walk.notes)
    return output if data == original else type(output).model_validate(data)


def bound_step(record: StepRecord, limits: Limits = RECORD_LIMITS) -> StepRecord:
    """The record with every string and list bounded; ``trimmed:`` errors name cut lists.

    If the line is still longer than ``limits.line`` (many long fields at once), the original
    is bounded again with tighter limits, so a step line stays small whatever the model sent.
    """
    bounded = _bound(record, limits)
    if len(bounded.model_dump_json().encode()) > limits.line:
        bounded = _bound(record, limits.tighter())
    return bounded


def _bound(record: StepRecord, limits: Limits) -> StepRecord:
    walk = _Walk(limits)
    data = walk.value(record.model_dump(), ())
    data["errors"] = [*data["errors"], *walk.notes]
    return StepRecord.model_validate(data)
