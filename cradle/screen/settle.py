"""Waiting for the screen to stop changing, and measuring how far two screens differ.

Replay must not act while an app is still redrawing (a menu sliding open, a dialog fading in),
and the loop must not capture a screen the last actions have not reached yet (a terminal
echoing typed text a few ms later), yet a fixed sleep is either too slow or too short. Instead
the screen is captured until ``frames`` consecutive captures are near-identical, or
``timeout`` passes. Captures equal to the screen from *before* the actions need a longer quiet
spell (``unchanged_frames``): the app may simply not have started to repaint.

"Near-identical" and "diverged" use the same measure, :func:`frame_difference`: both images are
converted to grayscale, downscaled to ``COMPARE_WIDTH`` pixels wide, blurred a little (so
anti-aliasing, a blinking caret or a one-pixel shift do not count) and compared pixel by pixel;
the difference is the fraction of pixels whose gray value differs by more than
``PIXEL_TOLERANCE`` (0.0 = same picture, 1.0 = every pixel changed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageFilter

COMPARE_WIDTH = 320
"""Width both images are reduced to before comparing; keeps a comparison at ~1 ms."""
PIXEL_TOLERANCE = 24
"""Gray levels (of 255) a pixel may differ by and still count as unchanged."""
BLUR_RADIUS = 1.0


def _prepare(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    gray = image.convert("L").resize(size, Image.Resampling.BILINEAR)
    return np.asarray(gray.filter(ImageFilter.GaussianBlur(BLUR_RADIUS)), dtype=np.int16)


def comparison_size(size: tuple[int, int]) -> tuple[int, int]:
    """The reduced size used for comparing images whose reference has ``size``."""
    width, height = size
    if width <= COMPARE_WIDTH:
        return width, height
    return COMPARE_WIDTH, max(1, round(height * COMPARE_WIDTH / width))


def frame_difference(reference: Image.Image, other: Image.Image) -> float:
    """Fraction of pixels (0..1) that differ between two screens, after reducing both.

    ``other`` is resized to ``reference``'s proportions, so a live screen of another size can
    still be compared with a recorded one (a different layout then shows as a difference).
    """
    if (
        reference.size == other.size
        and reference.mode == other.mode
        and ImageChops.difference(reference, other).getbbox() is None
    ):
        return 0.0  # the same pixels: ~0.5 ms at 1024x768 instead of ~10 ms
    size = comparison_size(reference.size)
    a, b = _prepare(reference, size), _prepare(other, size)
    changed = np.abs(a - b) > PIXEL_TOLERANCE
    return float(changed.mean())


@dataclass(frozen=True)
class Settled:
    """The last frame captured and whether the screen really came to rest before the timeout."""

    frame: Image.Image
    settled: bool
    waited: float
    captures: int


def wait_until_settled(
    capture: Callable[[], Image.Image],
    *,
    frames: int = 2,
    tolerance: float = 0.001,
    interval: float = 0.05,
    timeout: float = 5.0,
    min_delay: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    unchanged: Image.Image | None = None,
    unchanged_frames: int = 0,
) -> Settled:
    """Capture until ``frames`` consecutive frames differ by at most ``tolerance``.

    ``min_delay`` is waited first (replay's ``--speed`` scales only this); ``frames=1`` returns
    the first capture. While the frames still equal ``unchanged`` (the screen before the
    actions), ``unchanged_frames`` consecutive ones are needed instead, when that is more. On
    timeout the last frame is returned with ``settled=False``: replay then compares it anyway,
    so a screen that never rests shows up as a divergence, not a hang.
    """
    start = clock()
    if min_delay > 0:
        sleep(min_delay)
    frame = capture()
    captures = 1
    stable = 1
    while stable < _needed(frame, frames, tolerance, unchanged, unchanged_frames):
        if clock() - start >= timeout:
            return Settled(frame, False, clock() - start, captures)
        sleep(interval)
        following = capture()
        captures += 1
        if frame_difference(frame, following) <= tolerance:
            stable += 1
        else:
            stable = 1
        frame = following
    return Settled(frame, True, clock() - start, captures)


def _needed(
    frame: Image.Image,
    frames: int,
    tolerance: float,
    unchanged: Image.Image | None,
    unchanged_frames: int,
) -> int:
    """How many equal frames make ``frame`` settled (more while nothing has changed yet)."""
    if unchanged_frames <= frames or unchanged is None:
        return frames
    return unchanged_frames if frame_difference(unchanged, frame) <= tolerance else frames
