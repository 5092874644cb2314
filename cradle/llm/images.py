"""Screenshots as the model receives them: downscaled, encoded, wrapped in a data URL."""

from __future__ import annotations

import base64
import io
from typing import Literal

from PIL import Image

from cradle.screen.mapping import fit_within

ImageFormat = Literal["jpeg", "png"]


def downscale(image: Image.Image, longest_side: int) -> Image.Image:
    """``image`` with its longest side capped at ``longest_side`` (same object if already small).

    Area averaging keeps thin text legible; a whole-number factor uses ``Image.reduce``
    (about 3 ms at 1080p) and other factors OpenCV's INTER_AREA (about 10 ms), where
    Lanczos costs over 30 ms per step.
    """
    size = fit_within(image.size, longest_side)
    if size == image.size:
        return image
    factor = image.size[0] / size[0]
    if factor.is_integer() and image.size[1] == size[1] * int(factor):
        return image.reduce(int(factor))
    import cv2
    import numpy as np

    pixels = cv2.resize(np.asarray(image.convert("RGB")), size, interpolation=cv2.INTER_AREA)
    return Image.fromarray(pixels)


def encode(image: Image.Image, fmt: ImageFormat = "jpeg", quality: int = 85) -> bytes:
    """Bytes of ``image``; JPEG is ~10x faster to encode than PNG at 1080p and much smaller."""
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    else:
        image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def data_url(image: Image.Image, fmt: ImageFormat = "jpeg", quality: int = 85) -> str:
    """A ``data:`` URL, the form OpenAI-compatible servers accept for inline images."""
    payload = base64.b64encode(encode(image, fmt, quality)).decode("ascii")
    return f"data:image/{fmt};base64,{payload}"
