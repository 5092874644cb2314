"""What a skill receives as its first parameter: the screen in the model's coordinates, and
the typed services of the episode it runs in.

Skills are written against the image the model saw: ``click(x=120, y=40)`` means pixel
(120, 40) of that image. ``SkillContext`` applies the coordinate map, so no skill ever does
scaling arithmetic of its own. Everything else a skill may use is a typed field: the episode
(:class:`EpisodeView`: environment, perceiver, home folder, grounder, extra icon folders), the
perception of the frame the model saw, the run's secrets, and :meth:`SkillContext.call`, which
runs another skill through the same gate as the model's own actions.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar, overload

from PIL import Image

from cradle.errors import SkillCallError, SkillExecutionError
from cradle.screen.base import MouseButton, Screen
from cradle.screen.mapping import CoordinateMap
from cradle.skills.decorator import get_skill

if TYPE_CHECKING:
    from cradle.computer_use.grounding import Grounder
    from cradle.environment import Environment
    from cradle.gate.secrets import SecretStore
    from cradle.perception import Perceiver, Perception
    from cradle.skills.decorator import Skill
    from cradle.types import SkillCall
    from cradle.vision.perceiver import VisionPerceiver, VisionPerception

P = ParamSpec("P")
R = TypeVar("R")

Guard = Callable[["Skill", "SkillCall"], str]
"""``(skill, call) -> reason`` asked before a skill calls another skill; a non-empty reason
refuses the inner call."""


class SkillLibrary(Protocol):
    """The skills a running skill may call (the registry the executor ran it from)."""

    def call(
        self, ctx: SkillContext, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        """Validate, gate and run the skill ``name`` with ``ctx``."""
        ...


@dataclass(eq=False)
class SpotPerception:
    """The last screen a skill perceived on the spot (:mod:`cradle.vision.grounding`).

    Kept by the episode, so two ``click_text`` calls on an unchanged screen read it once and
    another episode's perceiver (which may read no tree) never answers for this one; also
    the perceiver used when the environment brings none.
    """

    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    key: str = ""
    perceiver: VisionPerceiver | None = None
    perception: VisionPerception | None = None
    fallback: VisionPerceiver | None = None


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
    image_folders: tuple[Path, ...] = ()
    """Folders ``click_image`` looks in for icons before the environment's own images/."""
    spot: SpotPerception = field(default_factory=SpotPerception, compare=False)
    """Perception reuse for skills that read the screen on the spot."""


@dataclass
class SkillContext:
    """The injected first argument of every skill."""

    screen: Screen
    mapping: CoordinateMap
    episode: EpisodeView = field(default_factory=EpisodeView)
    perception: Perception | None = None
    """The perception of the frame the model saw this step (marks, screen text), if any."""
    secrets: SecretStore | None = None
    """The run's secrets, e.g. to redact what a skill reads off the screen before returning it."""
    clicks: list[tuple[int, int]] = field(default_factory=list)
    """Model-image points acted on during the current action, for the report."""
    guard: Guard | None = None
    """Asked before a skill calls another skill, so allow/deny lists and confirmation also
    hold for skills that call skills (a model-written wrapper around a denied or risky one)."""
    deadline: float = math.inf
    """``time.monotonic()`` value by which the running action must end; the executor sets it
    on the context it passes, and process-isolated skills are killed when it passes."""
    skills: SkillLibrary | None = None
    """What :meth:`call` runs skills from; the executor sets it."""
    depth: int = 0
    """How many skill calls deep this context is (skills calling skills are bounded)."""

    # Other skills ---------------------------------------------------------------------

    @overload
    def call(
        self,
        skill: Callable[Concatenate[SkillContext, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R: ...

    @overload
    def call(self, skill: str, /, *args: Any, **kwargs: Any) -> Any: ...

    def call(self, skill: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run another skill, given as the imported function or by name, without passing
        the context: ``ctx.call(hotkey, "ctrl", "s")``. The call is validated like the
        model's own and asked of the guard; the registry's current version runs (a file
        edited since it was imported is not called stale)."""
        name = skill if isinstance(skill, str) else _skill_name(skill)
        if self.skills is None:
            raise SkillExecutionError(
                f"{name}() needs a running skill; call it through the executor"
            )
        return self.skills.call(self, name, args, kwargs)

    # Input primitives in model-image coordinates ------------------------------------

    def _point(self, x: float, y: float) -> tuple[int, int]:
        if not self.mapping.contains(x, y):
            w, h = self.mapping.image_size
            raise SkillExecutionError(
                f"point ({x}, {y}) is outside the screenshot ({w}x{h}); use coordinates on it"
            )
        self.clicks.append((round(x), round(y)))
        return self.mapping.to_input(x, y)

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


def _skill_name(func: Callable[..., Any]) -> str:
    """The name a ``@skill`` function is registered under."""
    found = get_skill(func)
    if found is None:
        raise SkillCallError(f"{getattr(func, '__name__', func)!r} is not a skill")
    return found.name
