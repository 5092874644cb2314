"""One frame fingerprint, shared by the loop and the vision perceiver."""

from __future__ import annotations

import numpy as np
from PIL import Image

from cradle.screen.fingerprint import frame_digest


def test_an_image_and_its_array_have_one_fingerprint_that_any_change_alters() -> None:
    frame = Image.new("RGB", (40, 30), "white")
    digest = frame_digest(frame)
    assert digest == frame_digest(np.asarray(frame)) and len(digest) == 32
    changed = frame.copy()
    changed.putpixel((39, 29), (0, 0, 0))
    assert frame_digest(changed) != digest
    assert frame_digest(Image.new("RGB", (30, 40), "white")) != digest  # same bytes, turned


def test_the_perceiver_uses_the_same_fingerprint() -> None:
    from cradle.vision import perceiver

    assert perceiver.frame_digest is frame_digest
