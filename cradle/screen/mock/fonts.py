"""The one font of the mocked screen: Pillow's bundled FreeType font, cached per size.

Using the font that ships inside Pillow (Aileron, since Pillow 10.1) keeps captures
byte-identical on every machine with the same Pillow, with no system fonts involved.
"""

from __future__ import annotations

from functools import cache, lru_cache

from PIL import ImageFont

from cradle.errors import EnvironmentFailure

BODY_SIZE = 18
"""Body text: large enough for OCR and for a model looking at a downscaled screenshot."""


@cache
def font(size: int = BODY_SIZE) -> ImageFont.FreeTypeFont:
    """Pillow's default font at ``size`` pixels; needs Pillow built with FreeType."""
    loaded = ImageFont.load_default(size=size)
    if not isinstance(loaded, ImageFont.FreeTypeFont):
        raise EnvironmentFailure(
            "the mocked screen needs Pillow with FreeType support (pip install -U pillow)"
        )
    return loaded


@lru_cache(maxsize=4096)
def text_width(text: str, size: int = BODY_SIZE) -> float:
    """Advance width of ``text``; cached because caret and hit-testing ask for prefixes often."""
    return font(size).getlength(text)


def line_height(size: int = BODY_SIZE) -> int:
    """Distance between baselines of consecutive lines of text."""
    ascent, descent = font(size).getmetrics()
    return ascent + descent + 1


def fit_count(text: str, width: float, size: int = BODY_SIZE) -> int:
    """How many leading characters of ``text`` fit in ``width`` pixels (binary search)."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid], size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def index_at(text: str, x: float, size: int = BODY_SIZE) -> int:
    """Caret index in ``text`` closest to ``x`` pixels from its start (approximate hit-test)."""
    previous = 0.0
    for i in range(1, len(text) + 1):
        edge = text_width(text[:i], size)
        if x < (previous + edge) / 2:
            return i - 1
        previous = edge
    return len(text)
