"""``VisionPerceiver``: element boxes, set-of-mark and OCR on the CPU, behind ``Perceiver``.

Element detection runs on the downscaled image the model sees (cheap, and its boxes are
already in model pixels); OCR runs on the captured frame (small text survives) and its boxes
are scaled to model pixels. Each stage's time goes to ``Perception.timings_ms``. The result
also keeps the words of each line and a digest of the frame, so grounding skills can aim at a
word and tell whether the perception still matches the screen.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from PIL import Image

from cradle.perception import Perception, TextSpan
from cradle.vision.elements import Box, DetectSettings, detect_boxes, iou
from cradle.vision.marks import draw_marks, elements_for
from cradle.vision.ocr import TesseractOCR


def frame_digest(frame: Image.Image) -> str:
    """Same fingerprint as the agent's change detection, to tell if a perception is stale."""
    return hashlib.blake2b(frame.tobytes(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class VisionPerception(Perception):
    """A ``Perception`` plus what grounding needs: words per line, boxes, frame identity."""

    line_words: list[list[TextSpan]] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    frame_digest: str = ""
    frame_size: tuple[int, int] = (0, 0)
    ocr_done: bool = False


class VisionPerceiver:
    """Implements ``cradle.perception.Perceiver`` with OpenCV boxes and tesseract OCR."""

    def __init__(
        self,
        marks: bool = True,
        ocr: bool = True,
        *,
        engine: TesseractOCR | None = None,
        detect: DetectSettings | None = None,
    ) -> None:
        self.marks = marks
        self.ocr = ocr
        self.engine = engine or TesseractOCR()
        self.detect = detect or DetectSettings()

    def perceive(self, frame: Image.Image, shown: Image.Image) -> VisionPerception:
        """Boxes and marks on ``shown``, text read on ``frame`` (boxes in ``shown`` pixels)."""
        return self.run(frame, shown, marks=self.marks, ocr=self.ocr)

    def run(self, frame: Image.Image, shown: Image.Image, *, marks: bool, ocr: bool
            ) -> VisionPerception:
        """One perception with the stages asked for (grounding asks for OCR only)."""
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        digest = frame_digest(frame)
        timings["digest"] = _ms(clock)
        lines: list[TextSpan] = []
        line_words: list[list[TextSpan]] = []
        if ocr:
            clock = time.perf_counter()
            scale = (shown.width / frame.width, shown.height / frame.height)
            result = self.engine.read(frame, scale)
            lines, line_words = result.lines, result.line_words
            timings["ocr"] = _ms(clock)
        boxes: list[Box] = []
        image = shown
        elements = []
        if marks:
            clock = time.perf_counter()
            boxes = detect_boxes(shown, self.detect)
            timings["detect"] = _ms(clock)
            clock = time.perf_counter()
            # A box that is mostly one line of text is "text"; a control around text stays "box".
            roles = ["text" if any(iou(b, s.box) >= 0.4 for s in lines) else "box" for b in boxes]
            elements = elements_for(boxes, roles)
            image = draw_marks(shown, boxes)
            timings["marks"] = _ms(clock)
        timings["total"] = round(sum(timings.values()), 3)
        return VisionPerception(
            image=image, elements=elements, text=lines, timings_ms=timings,
            line_words=line_words, boxes=boxes, frame_digest=digest,
            frame_size=frame.size, ocr_done=ocr,
        )


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
