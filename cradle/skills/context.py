"""What a skill receives as its first parameter: the screen, in the model's coordinates.

Skills are written against the image the model saw: ``click(x=120, y=40)`` means pixel
(120, 40) of that image. ``SkillContext`` applies the coordinate map, so no skill ever does
scaling arithmetic of its own.

What a skill may know of the run around it is typed: :class:`EpisodeView` (the environment,
its perceiver, the episode's home folder) and the step's ``perception``; ``extras`` is left
for helpers of one environment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from cradle.errors import SkillExecutionError
from cradle.screen.base import MouseButton, Screen
from cradle.screen.mapping import CoordinateMap

if TYPE_CHECKING:
    from cradle.computer_use.grounding import Grounder
    from cradle.environment import Environment
    from cradle.perception import Perceiver, Perception


@dataclass(frozen=True)
class EpisodeView:
    """The episode a skill runs in, as far as a skill needs it."""

    environment: Environment | None = None
    """Its environment (``folder``/images holds the icons ``click_image`` looks for)."""
    perceiver: Perceiver | None = None
    """The environment's perceiver, for skills that perceive again on the spot."""
    home: Path | None = None
    """The episode's own home folder, ``~`` of its task (None: the user's home)."""
    run_id: str = ""
    grounder: Grounder | None = None
    """The grounding model that locates described widgets (``--grounding-*``), if any."""


@dataclass
class SkillContext:
    """The injected first argument of every skill."""

    screen: Screen
    mapping: CoordinateMap
    episode: EpisodeView = field(default_factory=EpisodeView)
    perception: Perception | None = None
    """The perception of the frame the model saw this step (marks, screen text), if any."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Helpers of one environment (app handles, extra image folders) keyed by name."""
    clicks: list[tuple[int, int]] = field(default_factory=list)
    """Model-image points acted on during the current action, for the report."""
    guard: Any = None
    """``(skill, call) -> reason`` asked before a skill calls another skill; a non-empty
    reason refuses the inner call, so allow/deny lists and confirmation also hold for skills
    that call skills (a model-written wrapper around a denied or risky skill)."""
    deadline: float = math.inf
    """``time.monotonic()`` value by which the running action must end; the executor sets it
    on the context it passes, and process-isolated skills are killed when it passes."""

    def _point(self, x: float, y: float) -> tuple[int, int]:
        if not self.mapping.contains(x, y):
            w, h = self.mapping.image_size
            raise SkillExecutionError(
                f"point ({x}, {y}) is outside the screenshot ({w}x{h}); use coordinates on it"
            )
        self.clicks.append((round(x), round(y)))
        return self.mapping.to_input(x, y)

    # Input primitives in model-image coordinates ------------------------------------

    def click(self, x: float, y: float, *, button: MouseButton = "left", clicks: int = 1) -> None:
        px, py = self._point(x, y)
        self.screen.click(px, py, button=button, clicks=clicks)

    def move(self, x: float, y: float) -> None:
        px, py = self._point(x, y)
        self.screen.move(px, py)

    def drag(self, x1: float, y1: float, x2: float, y2: float) -> None:
        a, b = self._point(x1, y1), self._point(x2, y2)
        self.screen.drag(a[0], a[1], b[0], b[1])

    def scroll(self, amount: int, x: float | None = None, y: float | None = None) -> None:
        if (x is None) != (y is None):
            raise SkillExecutionError("scroll needs both x and y, or neither")
        if x is None or y is None:
            self.screen.scroll(amount)
        else:
            px, py = self._point(x, y)
            self.screen.scroll(amount, px, py)

    def hscroll(self, amount: int, x: float | None = None, y: float | None = None) -> None:
        self.screen.hscroll(amount, *self._optional_point(x, y, "hscroll"))

    def mouse_down(
        self, x: float | None = None, y: float | None = None, *, button: MouseButton = "left"
    ) -> None:
        self.screen.mouse_down(*self._optional_point(x, y, "mouse_down"), button=button)

    def mouse_up(
        self, x: float | None = None, y: float | None = None, *, button: MouseButton = "left"
    ) -> None:
        self.screen.mouse_up(*self._optional_point(x, y, "mouse_up"), button=button)

    def _optional_point(
        self, x: float | None, y: float | None, what: str
    ) -> tuple[int | None, int | None]:
        if (x is None) != (y is None):
            raise SkillExecutionError(f"{what} needs both x and y, or neither")
        return (None, None) if x is None or y is None else self._point(x, y)

    def key_down(self, key: str) -> None:
        self.screen.key_down(key)

    def key_up(self, key: str) -> None:
        self.screen.key_up(key)

    def type_text(self, text: str) -> None:
        self.screen.type_text(text)

    def press(self, key: str) -> None:
        self.screen.press(key)

    def hotkey(self, *keys: str) -> None:
        self.screen.hotkey(*keys)

    def capture(self) -> Image.Image:
        """The current screen at capture resolution (not the downscaled model image)."""
        return self.screen.capture()
