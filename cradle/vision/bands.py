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

STRIDE = 4
"""Rows between the samples on which long vertical runs are looked for."""


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

    if gray.shape[1] < 2:
        return np.zeros(gray.shape, bool)
    diff = cv2.absdiff(gray[:, 1:], gray[:, :-1])
    _, steps = cv2.threshold(diff, settings.edge - 1, 1, cv2.THRESH_BINARY)
    steps = cv2.copyMakeBorder(steps, 0, 0, 1, 0, cv2.BORDER_CONSTANT, value=0)
    # Long runs are found on every STRIDE-th row (4x less work, a few rows of slack at their
    # ends), then spread back over the rows each sample stands for.
    sampled = np.ascontiguousarray(steps[::STRIDE])
    kernel = np.ones((max(1, settings.long_run // STRIDE), 1), np.uint8)
    runs = cv2.morphologyEx(sampled, cv2.MORPH_OPEN, kernel)
    return steps > np.repeat(runs, STRIDE, axis=0)[: steps.shape[0]]


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
        runs[lo : hi + 1] = [[runs[lo][0], runs[hi][1]]]
    return runs


@dataclass(frozen=True)
class RowInk:
    """Per row of a frame, the first and last column holding ink (-1 in a row with none)."""

    first: np.ndarray
    last: np.ndarray


def row_ink(gray: np.ndarray, settings: BandSettings) -> RowInk:
    """Where each row's ink starts and ends."""
    ink = ink_mask(gray, settings)
    has = ink.any(axis=1)
    first = np.where(has, ink.argmax(axis=1), -1)
    last = np.where(has, ink.shape[1] - 1 - ink[:, ::-1].argmax(axis=1), -1)
    return RowInk(first, last)


def updated_row_ink(
    previous: RowInk, gray: np.ndarray, changed: tuple[int, int], settings: BandSettings
) -> RowInk:
    """``row_ink(gray)`` given the previous frame's, when only rows ``changed`` (start, end)
    differ: a row's ink depends on the rows within ``long_run + STRIDE`` of it, so only
    those around the change are computed again (from a slab wide enough to be exact)."""
    reach = settings.long_run + 2 * STRIDE
    height = gray.shape[0]
    start, end = changed
    slab_top = max(0, start - 2 * reach) // STRIDE * STRIDE  # samples stay on the same rows
    slab = row_ink(gray[slab_top : min(height, end + 2 * reach)], settings)
    lo, hi = max(0, start - reach), min(height, end + reach)
    first, last = previous.first.copy(), previous.last.copy()
    first[lo:hi] = slab.first[lo - slab_top : hi - slab_top]
    last[lo:hi] = slab.last[lo - slab_top : hi - slab_top]
    return RowInk(first, last)


def bands_of(
    gray: np.ndarray,
    rows: RowInk,
    settings: BandSettings,
    known: dict[tuple[int, int, int, int], str] | None = None,
) -> list[Band]:
    """The bands of ``gray`` from its rows' ink; ``known`` digests of boxes whose pixels are
    known to be the same are reused instead of hashing them again."""
    s = settings
    runs = _join_short(_runs(rows.first >= 0), s.min_height)
    height, width = gray.shape
    bands: list[Band] = []
    for k, (top, bottom) in enumerate(runs):
        floor = runs[k - 1][1] if k > 0 else 0
        ceiling = runs[k + 1][0] if k + 1 < len(runs) else height
        inked = rows.first[top:bottom] >= 0
        left = max(0, int(rows.first[top:bottom][inked].min()) - s.margin)
        right = min(width, int(rows.last[top:bottom][inked].max()) + 1 + s.margin)
        # Margins stay inside this band's blank rows, so a neighbour's change never reaches it.
        top, bottom = max(floor, top - s.margin), min(ceiling, bottom + s.margin)
        box = (left, top, right, bottom)
        digest = (known or {}).get(box) or pixels_digest(gray[top:bottom, left:right])
        bands.append(Band(left, top, right, bottom, digest))
    return bands


def line_bands(gray: np.ndarray, settings: BandSettings | None = None) -> list[Band]:
    """The bands of ``gray`` (uint8, H x W), top to bottom; a blank frame has none."""
    s = settings or BandSettings()
    return bands_of(gray, row_ink(gray, s), s)


def changed_rows(before: np.ndarray, after: np.ndarray) -> tuple[int, int] | None:
    """The first and one past the last row where two equal-sized frames differ, or None."""
    rows = np.flatnonzero((before != after).any(axis=1))
    return (int(rows[0]), int(rows[-1]) + 1) if rows.size else None


def pixels_digest(pixels: np.ndarray) -> str:
    """A fingerprint of an array's shape and bytes."""
    digest = hashlib.sha256(repr((pixels.shape, pixels.dtype.str)).encode())
    digest.update(np.ascontiguousarray(pixels).data)
    return digest.hexdigest()[:32]
