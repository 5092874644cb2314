"""Line bands of a frame: the pieces OCR reads one by one, so that a change re-reads only its own.

Tesseract's result for a region depends on everything in the image it is given (it binarises
with one threshold for the whole image and lays out text over all of it), so re-reading only
a changed crop would not give what a read of the whole frame gives. Perception therefore
reads a frame as a set of independent pieces, always the same way: the rows holding ink are
grouped into *bands* separated by rows without any, each band cut to the columns its ink
spans (plus a margin of its own blank rows and columns, as tesseract likes), and each band is
one page for tesseract. A band's result depends only on its own pixels, so a band whose
pixels did not change (even if it moved) keeps its words, and a frame read piece by piece
with a cache is, by construction, identical to the same frame read without one.

*Ink* is a horizontal step in brightness (a glyph's strokes, a control's border); steps on a
long vertical run (a window edge, a scroll bar, a pane divider) are not ink, so the rows
beside them can still separate lines of text. A band shorter than ``min_height`` (the dot of
an *i* above its stem, an underline) joins its nearer neighbour.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BandSettings:
    """Thresholds in captured pixels (chosen on 1080p screens; text 9-40 px tall)."""

    edge: int = 10
    """Smallest brightness step between neighbouring pixels that counts as ink."""
    long_run: int = 48
    """Vertical runs of steps at least this tall are lines (edges, dividers), not ink."""
    min_height: int = 4
    margin: int = 4
    """Blank pixels kept around a band's ink (no more than the blank space there is)."""


@dataclass(frozen=True)
class Band:
    """A piece of the frame read on its own: ``(left, top, right, bottom)``, exclusive."""

    left: int
    top: int
    right: int
    bottom: int
    digest: str
    """Fingerprint of the band's pixels and size: equal digests, equal OCR results."""


def ink_mask(gray: np.ndarray, settings: BandSettings) -> np.ndarray:
    """Where the frame has ink: horizontal steps not on a long vertical run (H x W bool)."""
    import cv2

    steps = np.zeros(gray.shape, np.uint8)
    if gray.shape[1] > 1:
        diff = np.abs(np.diff(gray.astype(np.int16), axis=1)) >= settings.edge
        steps[:, 1:] = diff
    kernel = np.ones((settings.long_run, 1), np.uint8)
    lines = cv2.morphologyEx(steps, cv2.MORPH_OPEN, kernel)
    return (steps & (1 - lines)).astype(bool)


def _runs(flags: np.ndarray) -> list[list[int]]:
    """``[start, end)`` of each run of true values."""
    padded = np.concatenate(([0], flags.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _join_short(runs: list[list[int]], min_height: int) -> list[list[int]]:
    """Merge each run shorter than ``min_height`` into the neighbour across the smaller gap."""
    runs = [list(r) for r in runs]
    while len(runs) > 1:
        short = [i for i, (a, b) in enumerate(runs) if b - a < min_height]
        if not short:
            break
        i = min(short, key=lambda k: (runs[k][1] - runs[k][0], k))
        above = runs[i][0] - runs[i - 1][1] if i > 0 else None
        below = runs[i + 1][0] - runs[i][1] if i + 1 < len(runs) else None
        j = i - 1 if below is None or (above is not None and above <= below) else i + 1
        lo, hi = min(i, j), max(i, j)
        runs[lo:hi + 1] = [[runs[lo][0], runs[hi][1]]]
    return runs


def line_bands(gray: np.ndarray, settings: BandSettings | None = None) -> list[Band]:
    """The bands of ``gray`` (uint8, H x W), top to bottom; a blank frame has none."""
    s = settings or BandSettings()
    ink = ink_mask(gray, s)
    rows = _join_short(_runs(ink.any(axis=1)), s.min_height)
    height, width = gray.shape
    bands: list[Band] = []
    for k, (top, bottom) in enumerate(rows):
        floor = rows[k - 1][1] if k > 0 else 0
        ceiling = rows[k + 1][0] if k + 1 < len(rows) else height
        cols = np.flatnonzero(ink[top:bottom].any(axis=0))
        left = max(0, int(cols[0]) - s.margin)
        right = min(width, int(cols[-1]) + 1 + s.margin)
        # Margins stay inside this band's blank rows, so a neighbour's change never reaches it.
        top, bottom = max(floor, top - s.margin), min(ceiling, bottom + s.margin)
        bands.append(Band(left, top, right, bottom, pixels_digest(gray[top:bottom, left:right])))
    return bands


def pixels_digest(pixels: np.ndarray) -> str:
    """A fingerprint of an array's shape and bytes."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(pixels.shape).encode())
    digest.update(np.ascontiguousarray(pixels).tobytes())
    return digest.hexdigest()
