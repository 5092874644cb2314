"""The base of screens that wrap another screen, adding one cross-cutting behaviour each.

A wrapper passes the pixels, the settling pace, ``release_all`` and ``close`` through, and says
what it does with input. :func:`cradle.screen.compose.episode_screen` is the one place an
episode's wrappers are put around its environment's screen.
"""

from __future__ import annotations

from PIL import Image

from cradle.screen.base import Screen, ScreenGeometry


class ScreenWrapper(Screen):
    """Wraps ``inner``: what is seen is the inner screen's; input is the subclass's business."""

    def __init__(self, inner: Screen) -> None:
        self.inner = inner
        self.settle_interval = getattr(inner, "settle_interval", self.settle_interval)

    @property
    def geometry(self) -> ScreenGeometry:
        return self.inner.geometry

    def capture(self) -> Image.Image:
        return self.inner.capture()

    def release_all(self) -> None:
        self.inner.release_all()

    def close(self) -> None:
        self.inner.close()
