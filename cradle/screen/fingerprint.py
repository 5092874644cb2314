"""The fingerprint of a frame: one answer to "is this the same screen?".

The loop compares a frame's fingerprint with the last step's to reuse an unchanged screen's
image, file and perception; the vision perceiver keeps it on a perception so that a grounding
skill can tell whether that perception still shows the screen. Both must agree, so both call
this function.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


def frame_digest(frame: Image.Image | np.ndarray) -> str:
    """SHA-256 of the pixels and their shape, 32 hex digits (~6 ms at 1080p; the fastest
    strong hash here, where BLAKE2b takes ~9). An image and its array give the same digest,
    so a caller that already holds the array passes it and saves a copy."""
    import numpy as np  # loaded by the first capture, not when cradle is imported

    pixels = np.asarray(frame)
    digest = hashlib.sha256(repr(pixels.shape).encode())
    digest.update(np.ascontiguousarray(pixels).data)
    return digest.hexdigest()[:32]
