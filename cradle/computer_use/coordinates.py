"""How an open GUI model writes points, declared by the user and never guessed.

Model families disagree: UI-TARS-1.5 and Qwen2.5-VL answer in pixels of the image *as their
processor resized it* (``smart_resize``: sides rounded to multiples of 28, the pixel count kept
within bounds), UI-TARS 1.0 and Qwen3-VL in thousandths of the width and height, some
grounders in fractions 0-1. A :class:`Coordinates` names one convention and, for absolute
points, the grid they are on (``image``: the screenshot as sent; ``smart-resize``: computed
from its size; ``WxH``: a fixed grid, e.g. a server configured with another pixel budget).
Each format has a documented default; what was used is written into every model call record
(:meth:`Coordinates.describe`), so a misplaced click can be traced to its convention.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import get_args

from cradle.computer_use.actions import Convention, to_image_point
from cradle.errors import ConfigError

CONVENTIONS: tuple[str, ...] = get_args(Convention)
SMART_FACTOR = 28
"""Qwen2.5-VL's patch size (14) times its merge size (2): resized sides are multiples of it."""
SMART_MIN_PIXELS = 4 * 28 * 28
SMART_MAX_PIXELS = 16384 * 28 * 28
"""Qwen2.5-VL's processor bounds (UI-TARS-1.5 uses the same maximum)."""
MAX_GRID_SIDE = 20_000


def smart_resize(
    size: tuple[int, int],
    *,
    factor: int = SMART_FACTOR,
    min_pixels: int = SMART_MIN_PIXELS,
    max_pixels: int = SMART_MAX_PIXELS,
) -> tuple[int, int]:
    """The (width, height) Qwen2.5-VL's processor resizes an image of ``size`` to.

    Each side is rounded to a multiple of ``factor``; if the area then leaves
    [min_pixels, max_pixels], both sides are scaled by the same factor (floored to stay under
    the maximum, ceiled to reach the minimum), keeping the aspect ratio as far as possible.
    """
    width, height = size
    w = max(factor, round(width / factor) * factor)
    h = max(factor, round(height / factor) * factor)
    if w * h > max_pixels:
        beta = math.sqrt(width * height / max_pixels)
        w = max(factor, math.floor(width / beta / factor) * factor)
        h = max(factor, math.floor(height / beta / factor) * factor)
    elif w * h < min_pixels:
        beta = math.sqrt(min_pixels / (width * height))
        w = math.ceil(width * beta / factor) * factor
        h = math.ceil(height * beta / factor) * factor
    return w, h


@dataclass(frozen=True)
class Coordinates:
    """One coordinate convention and, for absolute points, its grid."""

    convention: Convention = "absolute"
    grid: str = "image"
    """``image``, ``smart-resize`` or ``WxH`` (absolute points only)."""
    origin: str = ""
    """Where the choice came from, for the record: ``--coordinates`` or ``default of uitars``."""

    def grid_size(self, image_size: tuple[int, int]) -> tuple[int, int] | None:
        """The grid absolute points are on for an image of ``image_size`` (None: the image)."""
        if self.convention != "absolute" or self.grid == "image":
            return None
        if self.grid == "smart-resize":
            return smart_resize(image_size)
        width, _, height = self.grid.partition("x")
        return int(width), int(height)

    def space(self, image_size: tuple[int, int]) -> tuple[int, int]:
        """The width and height of the space the model's points live in (for prompts)."""
        if self.convention == "relative-1000":
            return 1000, 1000
        if self.convention == "normalized":
            return 1, 1
        return self.grid_size(image_size) or image_size

    def to_image(self, x: float, y: float, image_size: tuple[int, int]) -> tuple[int, int]:
        """A model point in pixels of the image it was shown; off the image is an error."""
        return to_image_point(x, y, self.convention, image_size, self.grid_size(image_size))

    def describe(self, image_size: tuple[int, int]) -> str:
        """One line for the model call record, e.g. ``absolute on the 1288x728 smart-resize
        grid of the 1280x720 image (default of qwen)``."""
        w, h = image_size
        if self.convention != "absolute":
            where = f"{self.convention} of the {w}x{h} image"
        elif self.grid == "image":
            where = f"absolute pixels of the {w}x{h} image"
        else:
            gw, gh = self.grid_size(image_size) or image_size
            kind = "smart-resize grid" if self.grid == "smart-resize" else "grid"
            where = f"absolute on the {gw}x{gh} {kind} of the {w}x{h} image"
        return f"{where} ({self.origin})" if self.origin else where


def coordinates_from_flags(
    convention: str | None, grid: str | None, *, default: Coordinates, flag: str = "--coordinates"
) -> Coordinates:
    """The convention the user gave (``flag`` and ``flag``-grid), else ``default``.

    A grid with a relative convention is refused, not ignored: it would mean the user expects
    something that does not happen.
    """
    if convention is None and grid is None:
        return default
    chosen = convention or default.convention
    if chosen not in CONVENTIONS:
        raise ConfigError(f"{flag} must be one of {', '.join(CONVENTIONS)}, not {chosen!r}")
    if grid is not None and chosen != "absolute":
        raise ConfigError(f"{flag}-grid applies to absolute coordinates only, not {chosen}")
    grid = (
        check_grid(grid, f"{flag}-grid")
        if grid is not None
        else (
            default.grid if chosen == "absolute" and default.convention == "absolute" else "image"
        )
    )
    return Coordinates(
        chosen,
        grid,
        f"{flag} {chosen}" + (f", grid {grid}" if grid != "image" and chosen == "absolute" else ""),
    )


def check_grid(grid: str, flag: str) -> str:
    """``image``, ``smart-resize`` or ``WxH`` with sides 1..20000; else a one-line error."""
    if grid in ("image", "smart-resize"):
        return grid
    match = re.fullmatch(r"(\d{1,5})x(\d{1,5})", grid.strip().lower())
    if not match or not all(0 < int(side) <= MAX_GRID_SIDE for side in match.groups()):
        raise ConfigError(
            f"{flag} must be image, smart-resize or WIDTHxHEIGHT (e.g. 1288x728), not {grid!r}"
        )
    return f"{int(match[1])}x{int(match[2])}"
