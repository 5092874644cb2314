"""One element list from every provider: the tree first, then what only pixels can see.

Accessibility elements are exact (boxes, roles, names of icon-only buttons), so they come
first; OCR text adds what the tree lacks (a Tk window or a game has no tree, a canvas draws
its own text), and edge contours add the rest. An element another source already covers
(boxes overlapping, or its centre inside a smaller kept element) is a duplicate and dropped.
Containers (frames, panels, fillers) are not targets and never listed. The result is cut to a
budget, most useful first, then put in reading order and numbered for the marks.
"""

from __future__ import annotations

from dataclasses import dataclass

from cradle.elements.base import CONTAINER_ROLES, INTERACTIVE_ROLES, Box
from cradle.types import Element


@dataclass(frozen=True)
class ElementBudget:
    """How many elements reach the marks and the prompt (each costs ~15 prompt tokens)."""

    max_elements: int = 100
    duplicate_iou: float = 0.5


def _area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / float(_area(a) + _area(b) - inter) if inter else 0.0


def _inside(point: tuple[float, float], box: Box) -> bool:
    return box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def is_target(element: Element) -> bool:
    """Whether an element is something to act on or read, not a container of such things."""
    if element.source != "a11y":
        return True
    if element.role in CONTAINER_ROLES:
        return False
    return bool(element.name or element.value) or element.role in INTERACTIVE_ROLES


def _covered(element: Element, kept: list[Element], iou: float) -> bool:
    if element.box is None:
        return False
    centre = _centre(element.box)
    for other in kept:
        if other.box is None:
            continue
        if _iou(element.box, other.box) >= iou:
            return True
        # A word inside a button the tree already named, a contour around a named field.
        if _inside(centre, other.box) and _area(other.box) <= 6 * max(1, _area(element.box)):
            return True
    return False


def _priority(element: Element) -> tuple[int, int]:
    interactive = element.role in INTERACTIVE_ROLES or bool(element.actions)
    rank = {"a11y": 0, "ocr": 1, "template": 1, "contours": 2}[element.source]
    return (
        rank if interactive or element.source != "a11y" else rank + 1,
        -_area(element.box) if element.box else 0,
    )


def reading_order(elements: list[Element], row: int = 8) -> list[Element]:
    """Top to bottom, then left to right; tops within ``row`` pixels count as one row."""
    return sorted(elements, key=lambda e: (e.y // max(1, row), e.x))


def merge_elements(
    groups: list[list[Element]], budget: ElementBudget | None = None, *, label: bool = True
) -> list[Element]:
    """Merge provider outputs (any order of sources), dedupe, cut to budget, number them.

    ``label`` numbers the kept elements 1..N in reading order (the marks); without it every
    label is ''.
    """
    limits = budget or ElementBudget()
    candidates = sorted((e for group in groups for e in group if is_target(e)), key=_priority)
    kept: list[Element] = []
    for element in candidates:
        if not _covered(element, kept, limits.duplicate_iou):
            kept.append(element)
        if len(kept) >= limits.max_elements:
            break
    ordered = reading_order(kept)
    return [
        e.model_copy(update={"label": str(i) if label else ""})
        for i, e in enumerate(ordered, start=1)
    ]
