"""The one place where a point on the model's image becomes a point for the input library.

The model sees a screenshot that may have been downscaled (and, on the desktop, cropped to one
monitor or window). Its coordinates are in that image's pixels. Three steps take them to input
coordinates: undo the downscale, undo the HiDPI scale, add the origin of the captured area.
"""

from __future__ import annotations

from dataclasses import dataclass

from cradle.screen.base import ScreenGeometry


@dataclass(frozen=True)
class CoordinateMap:
    """Maps model-image pixels to input coordinates and back."""

    image_size: tuple[int, int]
    geometry: ScreenGeometry

    @property
    def downscale(self) -> tuple[float, float]:
        """Captured pixels per model-image pixel, per axis."""
        (cw, ch), (iw, ih) = self.geometry.capture_size, self.image_size
        return cw / iw, ch / ih

    def to_input(self, x: float, y: float) -> tuple[int, int]:
        """Model-image point -> input point (rounded to the nearest whole point)."""
        fx, fy = self.downscale
        ox, oy = self.geometry.origin
        scale = self.geometry.scale
        # Centre of the model pixel, so a click on pixel 0 lands inside the first capture pixel.
        cx = (x + 0.5) * fx - 0.5
        cy = (y + 0.5) * fy - 0.5
        return round(ox + cx / scale), round(oy + cy / scale)

    def to_image(self, x: float, y: float) -> tuple[int, int]:
        """Input point -> model-image point; used to draw where a click landed."""
        fx, fy = self.downscale
        ox, oy = self.geometry.origin
        scale = self.geometry.scale
        cx = (x - ox) * scale
        cy = (y - oy) * scale
        return round((cx + 0.5) / fx - 0.5), round((cy + 0.5) / fy - 0.5)

    def contains(self, x: float, y: float) -> bool:
        """Whether a model-image point lies on the image the model saw."""
        w, h = self.image_size
        return 0 <= x < w and 0 <= y < h


def fit_within(size: tuple[int, int], longest_side: int) -> tuple[int, int]:
    """The size an image of ``size`` gets when its longest side is capped (never upscaled)."""
    w, h = size
    longest = max(w, h)
    if longest_side <= 0 or longest <= longest_side:
        return w, h
    factor = longest_side / longest
    return max(1, round(w * factor)), max(1, round(h * factor))
