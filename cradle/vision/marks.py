"""Set-of-mark: numbered boxes drawn on the image the model sees, and the matching element list.

The model answers ``click_label(label=7)`` instead of guessing pixel coordinates; the label
is the mark number of an element of the merged list (``cradle.elements.merge``), which gives
each mark's centre in model-image pixels. Labels
are drawn on a filled tag in a colour that cycles, with white text, sized from the image
height so they stay legible after downscaling.
"""

from __future__ import annotations

from functools import cache

from PIL import Image, ImageDraw, ImageFont

from cradle.vision.elements import Box

PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75),
    (0, 130, 200),
    (60, 180, 75),
    (245, 130, 48),
    (145, 30, 180),
    (0, 128, 128),
    (170, 110, 40),
    (128, 0, 0),
)
"""Dark enough for white label text; neighbours differ so adjacent marks can be told apart."""


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def label_size(image_height: int) -> int:
    """Label text size: about 1/50 of the image height, never below 11 px."""
    return max(11, image_height // 50)


def draw_marks(image: Image.Image, boxes: list[Box]) -> Image.Image:
    """A copy of ``image`` with each box outlined and tagged with its 1-based number."""
    out = image.convert("RGB") if image.mode != "RGB" else image.copy()
    draw = ImageDraw.Draw(out)
    font = _font(label_size(out.height))
    width, height = out.size
    for i, (x0, y0, x1, y1) in enumerate(boxes, start=1):
        color = PALETTE[(i - 1) % len(PALETTE)]
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=color, width=2)
        text = str(i)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tw, th = right - left + 4, bottom - top + 4
        # Tag above the box when there is room, else inside its top-left corner.
        tx = min(max(0, x0), width - tw)
        ty = y0 - th if y0 - th >= 0 else y0
        ty = min(ty, height - th)
        draw.rectangle((tx, ty, tx + tw - 1, ty + th - 1), fill=color)
        draw.text((tx + 2 - left, ty + 2 - top), text, fill=(255, 255, 255), font=font)
    return out
