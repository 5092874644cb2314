"""Incremental perception: OCR and contour boxes read piece by piece, each piece remembered.

A frame is cut into pieces that are read independently of each other (``cradle.vision.bands``
for OCR: line bands of the captured frame; for contours: the bands of the downscaled image's
edge map between rows without edges, which no contour can cross). Each piece's result is kept
under the fingerprint of its pixels. On the next frame only the pieces whose pixels are new
are read (typing a word: one line band); the rest come from the cache, wherever they moved.
A new window makes every piece new, and the frame pays the full price once.

The bands themselves are worked out again only around the rows that differ from the last
frame (``updated_row_ink``: a tile diff by rows, with the reach of the band rules around it),
and a band whose box and rows did not change keeps its fingerprint without hashing.

Because a piece's result depends on nothing but its pixels, and pieces are put together in
the same order either way, the result with the cache equals the result without it (what
``reuse=False`` computes: the full pass) — exactly, not approximately; the tests check it on
recorded frame sequences. The caches are bounded (least recently used pieces go first) and
guarded by a lock: the loop's background perception and a grounding skill may share them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np
from PIL import Image

from cradle.vision.bands import (
    Band,
    BandSettings,
    RowInk,
    bands_of,
    changed_rows,
    pixels_digest,
    row_ink,
    updated_row_ink,
)
from cradle.vision.elements import (
    Box,
    DetectSettings,
    contour_boxes,
    fused_edges,
    max_area,
    tidy_boxes,
    to_gray,
)
from cradle.vision.ocr import OcrResult, TesseractOCR, Word, ocr_result

MAX_PIECES = 4096
"""Pieces remembered per cache (a 1080p screen of text has ~50 bands)."""

T = TypeVar("T")


class PieceCache(Generic[T]):
    """Results by piece fingerprint, least recently used dropped first; thread-safe."""

    def __init__(self, limit: int = MAX_PIECES) -> None:
        self.limit = max(1, limit)
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: str, value: T) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _through_cache(
    cache: PieceCache[T], keys: list[str], reuse: bool, compute: Callable[[list[int]], list[T]]
) -> tuple[list[T], int]:
    """The result of each key: cached ones (when ``reuse``), the rest from ``compute``
    (called once with the indexes of the missing keys); returns results and how many ran."""
    results: list[T | None] = [cache.get(k) if reuse else None for k in keys]
    missing = [i for i, found in enumerate(results) if found is None]
    # Equal pieces on one frame (blank lines of an editor) are computed once.
    first: dict[str, int] = {}
    todo = [i for i in missing if first.setdefault(keys[i], i) == i]
    for i, value in zip(todo, compute(todo), strict=True):
        cache.put(keys[i], value)
        results[i] = value
    for i in missing:
        if results[i] is None:
            results[i] = results[first[keys[i]]]
    return [r for r in results if r is not None], len(todo)


class PieceReader:
    """OCR and contour boxes of frames, recomputing only the pieces whose pixels are new."""

    def __init__(
        self,
        engine: TesseractOCR,
        detect: DetectSettings,
        bands: BandSettings | None = None,
        limit: int = MAX_PIECES,
    ) -> None:
        self.engine = engine
        self.detect = detect
        self.bands = bands or BandSettings()
        self._words: PieceCache[list[Word]] = PieceCache(limit)
        self._boxes: PieceCache[list[Box]] = PieceCache(limit)
        self._lock = threading.Lock()
        self._last: tuple[np.ndarray, RowInk, list[Band]] | None = None
        """The last frame read with reuse (grayscale), its rows' ink and its bands."""

    def text(
        self, gray: np.ndarray, scale: tuple[float, float], *, reuse: bool = True
    ) -> tuple[OcrResult, dict[str, int]]:
        """Lines and words of a grayscale frame (boxes times ``scale``), and how many bands
        were read."""
        bands = self._bands(gray, reuse)

        def read(indexes: list[int]) -> list[list[Word]]:
            crops = [gray[b.top : b.bottom, b.left : b.right] for b in (bands[i] for i in indexes)]
            return self.engine.pages(crops)

        found, ran = _through_cache(self._words, [b.digest for b in bands], reuse, read)
        words = [
            _placed(w, band, index)
            for index, (band, band_words) in enumerate(zip(bands, found, strict=True))
            for w in band_words
        ]
        return ocr_result(words, scale), {"ocr_bands": len(bands), "ocr_bands_read": ran}

    def _bands(self, gray: np.ndarray, reuse: bool) -> list[Band]:
        """``line_bands(gray)``; with ``reuse``, worked out again only around the rows that
        differ from the last frame read (the same bands, for less work: ``updated_row_ink``)."""
        with self._lock:
            last = self._last if reuse else None
        if last is None or last[0].shape != gray.shape:
            rows = row_ink(gray, self.bands)
            bands = bands_of(gray, rows, self.bands)
        else:
            before, rows, bands = last
            changed = changed_rows(before, gray)
            if changed is not None:
                start, end = changed
                known = {
                    (b.left, b.top, b.right, b.bottom): b.digest
                    for b in bands
                    if b.bottom <= start or b.top >= end
                }
                rows = updated_row_ink(rows, gray, changed, self.bands)
                bands = bands_of(gray, rows, self.bands, known)
        if reuse:
            with self._lock:
                self._last = (gray, rows, bands)
        return bands

    def boxes(self, shown: Image.Image, *, reuse: bool = True) -> tuple[list[Box], dict[str, int]]:
        """``detect_boxes`` of ``shown``, contours traced again only in changed bands."""
        fused = fused_edges(to_gray(shown), self.detect)
        largest = max_area(fused.shape, self.detect)
        slices = edge_bands(fused)
        keys = [f"{largest}:{pixels_digest(fused[a:b])}" for a, b in slices]

        def trace(indexes: list[int]) -> list[list[Box]]:
            return [
                contour_boxes(fused[slices[i][0] : slices[i][1]], self.detect, largest)
                for i in indexes
            ]

        found, ran = _through_cache(self._boxes, keys, reuse, trace)
        boxes = [
            (x0, y0 + a, x1, y1 + a)
            for (a, _), band_boxes in zip(slices, found, strict=True)
            for x0, y0, x1, y1 in band_boxes
        ]
        return tidy_boxes(boxes, self.detect), {
            "contour_bands": len(slices),
            "contour_bands_read": ran,
        }


def grayscale(frame: Image.Image, pixels: np.ndarray | None = None) -> np.ndarray:
    """The frame in gray (uint8), from its RGB array when given (OpenCV: ~1 ms at 1080p,
    no second copy out of the image)."""
    if frame.mode != "RGB":
        return np.asarray(frame.convert("L"))
    import cv2

    return cv2.cvtColor(pixels if pixels is not None else np.asarray(frame), cv2.COLOR_RGB2GRAY)


def edge_bands(fused: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges of ``fused`` holding edges, each with the blank row above and below it
    (when there is one): contours never cross a blank row, so each range traces alone."""
    rows = fused.any(axis=1).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], rows, [0]))))
    height = fused.shape[0]
    return [
        (max(0, int(a) - 1), min(height, int(b) + 1))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def _placed(word: Word, band: Band, index: int) -> Word:
    """A word read on a band's crop, in frame pixels, its line keyed by the band."""
    x0, y0, x1, y1 = word.box
    _, block, paragraph, line = word.line_key
    return Word(
        word.text,
        (x0 + band.left, y0 + band.top, x1 + band.left, y1 + band.top),
        word.confidence,
        (index, block, paragraph, line),
    )
