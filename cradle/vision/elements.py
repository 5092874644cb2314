"""UI element detection from edges: boxes around things that look like controls or words.

No model, no accessibility tree: Canny edges, a dilation that fuses the letters of a word and
the border of a control, contours, then cleanup (drop specks and window-sized areas, merge
duplicates that are the inner and outer edge of the same border, drop a box inside a slightly
larger one). It costs a few milliseconds on a downscaled frame, so it can run on every
changed frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]
"""(x0, y0, x1, y1), exclusive right/bottom, in the pixels of the image analysed."""


@dataclass(frozen=True)
class DetectSettings:
    """Thresholds, in pixels of the analysed image, chosen for screenshots around 1280 wide."""

    canny_low: int = 50
    canny_high: int = 150
    dilate: tuple[int, int] = (3, 7)
    """Kernel (rows, cols): wider than tall so letters of a word fuse, lines of text do not."""
    min_side: int = 6
    min_area: int = 80
    max_area_fraction: float = 0.25
    """Larger boxes are windows or panes: as marks they hide everything inside them."""
    merge_iou: float = 0.5
    nested_ratio: float = 3.0
    """A box inside another less than this many times its area is the same control."""
    max_boxes: int = 150


def to_gray(image: Image.Image | np.ndarray) -> np.ndarray:
    """A uint8 grayscale array of ``image`` (PIL RGB/L or numpy RGB/gray)."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("L"))
    if image.ndim == 3:
        import cv2

        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    if inter == 0:
        return 0.0
    return inter / float(area(a) + area(b) - inter)


def area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def contains(outer: Box, inner: Box, slack: int = 2) -> bool:
    """Whether ``inner`` lies within ``outer`` (allowing ``slack`` pixels)."""
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def merge_boxes(boxes: list[Box], *, merge_iou: float, nested_ratio: float) -> list[Box]:
    """Union heavily overlapping boxes; drop a box nested in one only slightly larger."""
    merged: list[Box] = []
    for box in sorted(boxes, key=area, reverse=True):
        for i, kept in enumerate(merged):
            if iou(box, kept) >= merge_iou:
                merged[i] = (
                    min(box[0], kept[0]),
                    min(box[1], kept[1]),
                    max(box[2], kept[2]),
                    max(box[3], kept[3]),
                )
                break
            if contains(kept, box) and area(kept) < nested_ratio * max(1, area(box)):
                break
        else:
            merged.append(box)
    return merged


def reading_order(boxes: list[Box], row_tolerance: int = 8) -> list[Box]:
    """Top-to-bottom, then left-to-right, treating boxes whose tops are close as one row."""
    return sorted(boxes, key=lambda b: (b[1] // max(1, row_tolerance), b[0], b[1]))


def detect_boxes(
    image: Image.Image | np.ndarray, settings: DetectSettings | None = None
) -> list[Box]:
    """Boxes of likely UI elements in ``image``, in reading order, at most ``max_boxes``."""
    s = settings or DetectSettings()
    fused = fused_edges(to_gray(image), s)
    return tidy_boxes(contour_boxes(fused, s, max_area(fused.shape, s)), s)


def fused_edges(gray: np.ndarray, s: DetectSettings) -> np.ndarray:
    """Canny edges dilated so the letters of a word and a control's border join up."""
    import cv2

    edges = cv2.Canny(gray, s.canny_low, s.canny_high)
    return cv2.dilate(edges, np.ones(s.dilate, np.uint8), iterations=1)


def max_area(shape: tuple[int, ...], s: DetectSettings) -> float:
    """The largest box kept on an image of ``shape`` (rows, cols): bigger ones are panes."""
    return s.max_area_fraction * shape[0] * shape[1]


def contour_boxes(
    fused: np.ndarray, s: DetectSettings, largest: float, offset: tuple[int, int] = (0, 0)
) -> list[Box]:
    """Bounding boxes of the contours of ``fused`` that are neither specks nor panes, shifted
    by ``offset`` (x, y): ``fused`` may be a band of a larger image."""
    import cv2

    contours, _ = cv2.findContours(fused, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    dx, dy = offset
    boxes: list[Box] = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w < s.min_side or h < s.min_side or w * h < s.min_area or w * h > largest:
            continue
        boxes.append((x + dx, y + dy, x + dx + w, y + dy + h))
    return boxes


def tidy_boxes(boxes: list[Box], s: DetectSettings) -> list[Box]:
    """Merged, cut to ``max_boxes`` and in reading order; the input order does not matter
    (boxes are sorted first), so boxes gathered band by band give the same result."""
    boxes = merge_boxes(sorted(boxes), merge_iou=s.merge_iou, nested_ratio=s.nested_ratio)
    if len(boxes) > s.max_boxes:
        # Keep the larger ones: specks are rarely what the model wants to click.
        boxes = sorted(boxes, key=lambda b: (-area(b), b))[: s.max_boxes]
    return reading_order(boxes)
