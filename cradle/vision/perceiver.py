"""``VisionPerceiver``: one element list per frame from the providers the environment chose.

Up to three providers run on a changed frame: the app's accessibility tree (when the
environment gave one), tesseract OCR on the captured frame (small text survives; boxes scaled
to model pixels) and edge contours on the downscaled image. ``cradle.elements.merge`` turns
their outputs into one list, tree first, which becomes the set-of-mark image, the prompt's
element list and what ``click_text``/``click_label`` aim at. Each stage's time goes to
``Perception.timings_ms``. The result also keeps the words of each line and a digest of the
frame, so grounding skills can aim at a word and tell whether the perception is still current.

OCR and contours are incremental (``cradle.vision.pieces``): the frame is read in independent
pieces, and only the pieces whose pixels changed since an earlier frame are read again, with
exactly the result a read of the whole frame gives (``incremental=False`` reads every piece).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from cradle.elements.accessibility import AccessibilityProvider
from cradle.elements.base import View, image_box, screen_box
from cradle.elements.merge import ElementBudget, merge_elements
from cradle.perception import Perception, TextSpan
from cradle.screen.base import ScreenGeometry
from cradle.screen.fingerprint import frame_digest
from cradle.screen.mapping import CoordinateMap
from cradle.types import Element
from cradle.vision.bands import BandSettings
from cradle.vision.elements import Box, DetectSettings, iou
from cradle.vision.marks import draw_marks
from cradle.vision.ocr import TesseractOCR
from cradle.vision.pieces import PieceReader, grayscale


def plain_mapping(frame: Image.Image, shown: Image.Image) -> CoordinateMap:
    """The map for a frame captured at the screen's origin at scale 1 (tests, benchmarks)."""
    return CoordinateMap(shown.size, ScreenGeometry(capture_size=frame.size))


@dataclass(frozen=True)
class VisionPerception(Perception):
    """A ``Perception`` plus what grounding needs: words per line, boxes, frame identity."""

    line_words: list[list[TextSpan]] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    """Boxes of the marked elements, model-image pixels, in label order."""
    accessible: list[Element] = field(default_factory=list)
    """Every element the tree gave (not cut to the budget): what names are matched against."""
    frame_digest: str = ""
    frame_size: tuple[int, int] = (0, 0)
    ocr_done: bool = False
    tree_done: bool = False
    marks_done: bool = False
    work: dict[str, int] = field(default_factory=dict)
    """Pieces of the frame (``cradle.vision.pieces``) and how many were read, not reused."""


class VisionPerceiver:
    """Implements ``cradle.perception.Perceiver`` with the tree, OpenCV boxes and tesseract."""

    def __init__(
        self,
        marks: bool = True,
        ocr: bool = True,
        *,
        engine: TesseractOCR | None = None,
        detect: DetectSettings | None = None,
        accessibility: AccessibilityProvider | None = None,
        budget: ElementBudget | None = None,
        incremental: bool = True,
        bands: BandSettings | None = None,
    ) -> None:
        self.marks = marks
        self.ocr = ocr
        self.engine = engine or TesseractOCR()
        self.detect = detect or DetectSettings()
        self.accessibility = accessibility
        self.budget = budget or ElementBudget()
        self.incremental = incremental
        """Reuse the pieces of earlier frames whose pixels did not change (same result)."""
        self.pieces = PieceReader(self.engine, self.detect, bands)

    def perceive(
        self, frame: Image.Image, shown: Image.Image, mapping: CoordinateMap | None = None
    ) -> VisionPerception:
        """Elements and marks on ``shown``, text read on ``frame`` (boxes in ``shown`` pixels)."""
        return self.run(frame, shown, marks=self.marks, ocr=self.ocr, mapping=mapping)

    def run(
        self,
        frame: Image.Image,
        shown: Image.Image,
        *,
        marks: bool,
        ocr: bool,
        mapping: CoordinateMap | None = None,
    ) -> VisionPerception:
        """One perception with the stages asked for (``click_text`` asks for text only)."""
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        pixels = np.asarray(frame)  # one copy out of the image, for the digest and OCR
        digest = frame_digest(pixels)
        timings["digest"] = _ms(clock)
        view = View(frame, shown, mapping or plain_mapping(frame, shown), digest)
        accessible: list[Element] = []
        if self.accessibility is not None:
            clock = time.perf_counter()
            accessible = self.accessibility.elements(view)
            timings["a11y"] = _ms(clock)
        work: dict[str, int] = {}
        lines, line_words = self._text(frame, pixels, shown, timings, work) if ocr else ([], [])
        image, elements, boxes = shown, [], []
        if marks:
            image, elements, boxes = self._marks(view, accessible, lines, timings, work)
        timings["total"] = round(sum(timings.values()), 3)
        return VisionPerception(
            image=image,
            elements=elements,
            text=lines,
            timings_ms=timings,
            line_words=line_words,
            boxes=boxes,
            accessible=accessible,
            frame_digest=digest,
            frame_size=frame.size,
            ocr_done=ocr,
            tree_done=self.accessibility is not None,
            marks_done=marks,
            work=work,
        )

    def _text(
        self,
        frame: Image.Image,
        pixels: np.ndarray,
        shown: Image.Image,
        timings: dict[str, float],
        work: dict[str, int],
    ) -> tuple[list[TextSpan], list[list[TextSpan]]]:
        """The lines and their words, read piece by piece on the captured frame."""
        clock = time.perf_counter()
        scale = (shown.width / frame.width, shown.height / frame.height)
        result, counts = self.pieces.text(grayscale(frame, pixels), scale, reuse=self.incremental)
        work.update(counts)
        timings["ocr"] = _ms(clock)
        return result.lines, result.line_words

    def _marks(
        self,
        view: View,
        accessible: list[Element],
        lines: list[TextSpan],
        timings: dict[str, float],
        work: dict[str, int],
    ) -> tuple[Image.Image, list[Element], list[Box]]:
        """Contour boxes, the merged element list, their boxes and the marked image."""
        clock = time.perf_counter()
        contours, counts = self.pieces.boxes(view.shown, reuse=self.incremental)
        work.update(counts)
        timings["detect"] = _ms(clock)
        clock = time.perf_counter()
        elements = merge_elements(
            [accessible, text_elements(lines, view), contour_elements(contours, lines, view)],
            self.budget,
        )
        boxes = [image_box(e, view.mapping) for e in elements]
        image = draw_marks(view.shown, boxes)
        timings["marks"] = _ms(clock)
        return image, elements, boxes


def text_elements(lines: list[TextSpan], view: View) -> list[Element]:
    """OCR lines as elements (role ``text``, the line as name)."""
    return [
        Element(
            role="text",
            name=span.text,
            x=span.center[0],
            y=span.center[1],
            box=screen_box(span.box, view.mapping),
            source="ocr",
        )
        for span in lines
    ]


def contour_elements(boxes: list[Box], lines: list[TextSpan], view: View) -> list[Element]:
    """Contour boxes as elements; a box that is mostly one line of text has role ``text``."""
    return [
        Element(
            role="text" if any(iou(b, s.box) >= 0.4 for s in lines) else "box",
            x=(b[0] + b[2]) // 2,
            y=(b[1] + b[3]) // 2,
            box=screen_box(b, view.mapping),
            source="contours",
        )
        for b in boxes
    ]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
