"""Any platform's accessibility tree as an element provider, cached while the screen is still.

The provider asks its ``TreeReader`` for the nodes inside the captured area, converts them to
elements on the model's image and keeps the result for the frame digest it was read for: the
loop and a grounding skill on the same unchanged frame share one walk. A reader that cannot
reach the tree (no bus, library missing) turns the provider off for the rest of the episode,
with one note saying why, and perception goes on with OCR and contours.
"""

from __future__ import annotations

import threading
import time

from cradle.elements.base import (
    Box,
    TreeReader,
    TreeSnapshot,
    View,
    WalkLimits,
    node_to_element,
)
from cradle.errors import AccessibilityUnavailable, SkillExecutionError
from cradle.screen.mapping import CoordinateMap
from cradle.types import Element, ElementSource


def capture_area(mapping: CoordinateMap) -> Box:
    """The captured area in screen (input) pixels."""
    geometry = mapping.geometry
    ox, oy = geometry.origin
    width, height = geometry.capture_size
    return ox, oy, ox + round(width / geometry.scale), oy + round(height / geometry.scale)


class AccessibilityProvider:
    """``ElementProvider`` and ``ElementActor`` over a platform ``TreeReader``."""

    source: ElementSource = "a11y"

    def __init__(self, reader: TreeReader, limits: WalkLimits | None = None) -> None:
        self.reader = reader
        self.limits = limits or WalkLimits()
        self.unavailable = ""
        """Why the tree cannot be read, once a walk failed that way ('' while it works)."""
        self.last: TreeSnapshot = TreeSnapshot()
        self._lock = threading.Lock()
        self._cached: tuple[str, list[Element]] | None = None

    def elements(self, view: View) -> list[Element]:
        with self._lock:
            if self.unavailable:
                return []
            if self._cached is not None and self._cached[0] == view.digest:
                return list(self._cached[1])
            started = time.perf_counter()
            try:
                snapshot = self.reader.read(capture_area(view.mapping), self.limits)
            except AccessibilityUnavailable as exc:
                self.unavailable = str(exc)
                return []
            found = [e for e in (node_to_element(n, view.mapping) for n in snapshot.nodes) if e]
            self.last = TreeSnapshot(
                nodes=snapshot.nodes,
                truncated=snapshot.truncated,
                seconds=round(time.perf_counter() - started, 4),
            )
            self._cached = (view.digest, found)
            return list(found)

    def do_action(self, element: Element, action: str) -> str:
        self._need_ref(element)
        offered = [a.casefold() for a in element.actions]
        if offered and action.casefold() not in offered:
            raise SkillExecutionError(
                f"{element.role} {element.name!r} offers the actions {element.actions}, "
                f"not {action!r}"
            )
        return self._call(lambda: self.reader.do_action(element.ref, action))

    def set_text(self, element: Element, text: str) -> str:
        self._need_ref(element)
        return self._call(lambda: self.reader.set_text(element.ref, text))

    def forget(self) -> None:
        """Drop the cached walk (after acting through the tree, the next read must be fresh)."""
        with self._lock:
            self._cached = None

    def close(self) -> None:
        self.reader.close()

    def _call(self, act: object) -> str:
        try:
            return act()  # type: ignore[operator]
        except AccessibilityUnavailable as exc:
            raise SkillExecutionError(str(exc)) from None
        finally:
            self.forget()

    @staticmethod
    def _need_ref(element: Element) -> None:
        if element.source != "a11y" or not element.ref:
            raise SkillExecutionError(
                f"{element.role} {element.name!r} was not found in the accessibility tree, so "
                "it cannot be acted on through it; click it instead"
            )
