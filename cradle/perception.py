"""What the framework itself sees on a screenshot, before the model looks at it.

A ``Perceiver`` turns a captured frame into numbered elements (set-of-mark) from the element
providers its environment chose (accessibility tree, OCR, contours), on-screen text and an
annotated image for the model. The loop calls it only when the screen changed; on an
unchanged screen the previous perception is reused. Grounding skills (``click_text``,
``click_label``) read the latest perception from ``SkillContext.perception``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image

from cradle.screen.mapping import CoordinateMap
from cradle.types import Element


@dataclass(frozen=True)
class TextSpan:
    """A piece of text read on screen, with its box in model-image pixels."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float = 1.0

    @property
    def center(self) -> tuple[int, int]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) // 2, (y0 + y1) // 2


@dataclass(frozen=True)
class Perception:
    """The result of perceiving one frame; coordinates are model-image pixels."""

    image: Image.Image
    """What the model is shown: the downscaled frame, with marks drawn when marks are on."""
    elements: list[Element] = field(default_factory=list)
    """Every provider's elements merged; ``label`` is the mark number as text."""
    text: list[TextSpan] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


class Perceiver(Protocol):
    def perceive(
        self, frame: Image.Image, shown: Image.Image, mapping: CoordinateMap | None = None
    ) -> Perception:
        """Perceive ``frame`` (capture resolution); ``shown`` is it downscaled for the model;
        ``mapping`` takes ``shown`` pixels to screen pixels (None: captured at the origin)."""
        ...
