"""Finding an icon on screen by multi-scale template matching, for ``click_image``.

Icons ship with an environment as ``environments/<env>/images/<name>.png``. The screen may
show them larger or smaller than the stored file (HiDPI, zoom, another theme size), so the
grayscale template is tried at several scales (0.5-1.5 by default) with normalised
correlation. To stay fast at 1080p, the search runs on a half-resolution copy first (about
8x cheaper), then refines the best hit at full resolution in a small window around it.
A score under ``threshold`` is a clear failure naming the best score seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from cradle.errors import SkillExecutionError
from cradle.vision.elements import to_gray

DEFAULT_SCALES: tuple[float, ...] = tuple(round(0.5 + 0.1 * i, 2) for i in range(11))
DEFAULT_THRESHOLD = 0.8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class TemplateMatch:
    """Where the template was found, in pixels of the searched image."""

    box: tuple[int, int, int, int]
    score: float
    scale: float

    @property
    def center(self) -> tuple[int, int]:
        return (self.box[0] + self.box[2]) // 2, (self.box[1] + self.box[3]) // 2


class ImageNotFound(SkillExecutionError):
    """The icon is not on screen (best score under the threshold), or no such icon exists."""


def available_images(folders: list[Path]) -> list[str]:
    """Names (without .png) of the icons in ``folders``."""
    return sorted({p.stem for f in folders if f.is_dir() for p in f.glob("*.png")})


def load_template(name: str, folders: list[Path]) -> Image.Image:
    """The icon called ``name`` (with or without .png) from the first folder that has it."""
    stem = name[:-4] if name.lower().endswith(".png") else name
    if not _NAME.match(stem):
        raise ImageNotFound(f"image name {name!r} is not a plain file name")
    for folder in folders:
        path = folder / f"{stem}.png"
        if path.is_file():
            return Image.open(path).convert("RGB")
    names = ", ".join(available_images(folders)) or "none"
    raise ImageNotFound(f"no image named {stem!r}; this environment has: {names}")


def _best(
    gray: np.ndarray, tmpl: np.ndarray, scales: tuple[float, ...]
) -> tuple[float, float, tuple[int, int], tuple[int, int]]:
    """(score, scale, top-left, (w, h)) of the best match of ``tmpl`` over ``scales``."""
    import cv2

    best = (-1.0, 1.0, (0, 0), (0, 0))
    for scale in scales:
        w = max(1, round(tmpl.shape[1] * scale))
        h = max(1, round(tmpl.shape[0] * scale))
        if w < 4 or h < 4 or w > gray.shape[1] or h > gray.shape[0]:
            continue
        resized = cv2.resize(
            tmpl, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        )
        if float(resized.std()) < 1e-6:
            continue  # a flat template matches everywhere and nowhere
        result = cv2.matchTemplate(gray, resized, cv2.TM_CCOEFF_NORMED)
        result = np.nan_to_num(result, nan=-1.0, posinf=-1.0, neginf=-1.0)
        _, score, _, loc = cv2.minMaxLoc(result)
        if score > best[0]:
            best = (float(score), scale, (int(loc[0]), int(loc[1])), (w, h))
    return best


def find_template(
    screen: Image.Image | np.ndarray,
    template: Image.Image | np.ndarray,
    *,
    scales: tuple[float, ...] = DEFAULT_SCALES,
    threshold: float = DEFAULT_THRESHOLD,
    coarse: float = 0.5,
    name: str = "image",
) -> TemplateMatch:
    """The best place of ``template`` on ``screen``; ``ImageNotFound`` under ``threshold``."""
    import cv2

    gray, tmpl = to_gray(screen), to_gray(template)
    th, tw = tmpl.shape[:2]
    use_coarse = coarse < 1.0 and min(th, tw) * min(scales) * coarse >= 8
    if use_coarse:
        small = cv2.resize(gray, None, fx=coarse, fy=coarse, interpolation=cv2.INTER_AREA)
        small_t = cv2.resize(tmpl, None, fx=coarse, fy=coarse, interpolation=cv2.INTER_AREA)
        _, scale, (x, y), _ = _best(small, small_t, scales)
        # Refine at full resolution around the coarse hit, with neighbouring scales.
        margin = max(tw, th)
        x0, y0 = max(0, int(x / coarse) - margin), max(0, int(y / coarse) - margin)
        x1 = min(gray.shape[1], int(x / coarse) + int(tw * scale) + margin)
        y1 = min(gray.shape[0], int(y / coarse) + int(th * scale) + margin)
        near = tuple(s for s in (scale - 0.05, scale, scale + 0.05) if s > 0)
        score, scale, (rx, ry), (w, h) = _best(gray[y0:y1, x0:x1], tmpl, near)
        left, top = x0 + rx, y0 + ry
        if score < threshold:  # the coarse pass may have missed a small icon: search fully
            score, scale, (left, top), (w, h) = _best(gray, tmpl, scales)
    else:
        score, scale, (left, top), (w, h) = _best(gray, tmpl, scales)
    if score < threshold:
        raise ImageNotFound(
            f"image {name!r} not found on the screen: best match {max(score, 0.0):.2f} is under "
            f"the threshold {threshold:.2f}"
        )
    return TemplateMatch((left, top, left + w, top + h), round(score, 4), round(scale, 3))
