"""Native actions of computer-use models, and the cradle skill calls they become.

Each model family speaks its own action language (Anthropic's computer tool, OpenAI's
computer-use tool, UI-TARS text, Qwen-VL function calls) and its own coordinate convention.
Parsers turn replies into ``NativeAction`` objects with points already converted to pixels of
the image the model was shown (``to_image_point``); ``to_skill_calls`` renders each as
ordinary skill-call source (``click(x=10, y=20)``), which the action runner parses and
validates like anything a model writes. Nothing here trusts the model: sizes are bounded
and a point off the image is an error the model reads on its next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cradle.errors import ModelReplyError
from cradle.types import SkillCall

ActionKind = Literal[
    "click",
    "double_click",
    "triple_click",
    "right_click",
    "middle_click",
    "move",
    "drag",
    "scroll",
    "type",
    "key",
    "hold_key",
    "mouse_down",
    "mouse_up",
    "wait",
    "screenshot",
    "cursor_position",
    "done",
]
"""What computer-use models ask for. ``screenshot`` and ``cursor_position`` are answered by
the next observation and run no skill; ``done`` ends the task."""

Convention = Literal["absolute", "relative-1000", "normalized"]
"""How a model family writes points: pixels of the image it was shown (``absolute``; with a
``grid`` the pixels of the image as the family resized it), thousandths of the width and
height (``relative-1000``, UI-TARS 1.x, Qwen3-VL), or fractions 0-1 (``normalized``)."""

MAX_TEXT = 10_000
"""Characters of one typed text: a model that types a novel is refused, not obeyed."""
MAX_PATH = 64
MAX_KEYS = 6
MAX_SCROLL = 50
MAX_WAIT = 30.0


@dataclass(frozen=True)
class NativeAction:
    """One action a computer-use model asked for; points in model-image pixels."""

    kind: ActionKind
    x: int | None = None
    y: int | None = None
    path: tuple[tuple[int, int], ...] = ()
    """Drag path (first point = press, last = release)."""
    text: str = ""
    keys: tuple[str, ...] = ()
    """A key or a chord, in cradle's key names (``ctrl``, ``enter``, ``a``)."""
    scroll_x: int = 0
    scroll_y: int = 0
    """Scroll amount in wheel clicks; positive is down / right."""
    seconds: float = 0.0
    raw: str = ""
    """The action as the model wrote it, for the step record and error messages."""


def to_image_point(
    x: float,
    y: float,
    convention: Convention,
    image_size: tuple[int, int],
    grid: tuple[int, int] | None = None,
) -> tuple[int, int]:
    """A model's point in pixels of the image it was shown; off the image is an error."""
    width, height = image_size
    if convention == "relative-1000":
        px, py = x * width / 1000, y * height / 1000
    elif convention == "normalized":
        px, py = x * width, y * height
    elif grid is not None:
        px, py = x * width / grid[0], y * height / grid[1]
    else:
        px, py = x, y
    ix, iy = int(round(px)), int(round(py))
    if not (0 <= ix < width and 0 <= iy < height):
        raise ModelReplyError(
            f"point ({x:g}, {y:g}) is outside the {width}x{height} screenshot "
            f"(coordinates are {convention}{f' on a {grid[0]}x{grid[1]} grid' if grid else ''})"
        )
    return min(ix, width - 1), min(iy, height - 1)


def _call(skill: str, **kwargs: object) -> str:
    return SkillCall(skill=skill, kwargs=dict(kwargs)).render()


def _point(action: NativeAction) -> dict[str, int]:
    if action.x is None or action.y is None:
        raise ModelReplyError(f"{action.kind} needs a point: {action.raw[:200]!r}")
    return {"x": action.x, "y": action.y}


def to_skill_calls(action: NativeAction) -> list[str]:
    """The skill calls that perform ``action`` (empty for screenshot/cursor/done)."""
    kind = action.kind
    if kind in ("screenshot", "cursor_position", "done"):
        return []
    if kind in ("click", "double_click", "triple_click", "right_click", "middle_click"):
        return [_call(kind, **_point(action))]
    if kind == "move":
        return [_call("move_to", **_point(action))]
    if kind == "drag":
        if not 2 <= len(action.path) <= MAX_PATH:
            raise ModelReplyError(f"a drag needs 2 to {MAX_PATH} points: {action.raw[:200]!r}")
        (x1, y1), (x2, y2) = action.path[0], action.path[-1]
        return [_call("drag", x1=x1, y1=y1, x2=x2, y2=y2)]
    if kind == "scroll":
        return _scroll(action)
    if kind == "type":
        if len(action.text) > MAX_TEXT:
            raise ModelReplyError(
                f"text to type is {len(action.text)} characters (at most {MAX_TEXT})"
            )
        return [_call("type_text", text=action.text)]
    if kind in ("key", "hold_key"):
        return _keys(action)
    if kind == "wait":
        return [_call("wait", seconds=min(MAX_WAIT, max(0.0, action.seconds or 1.0)))]
    if kind in ("mouse_down", "mouse_up"):
        return [_call(kind, **_point(action))] if action.x is not None else [_call(kind)]
    raise ModelReplyError(f"unknown action {kind!r}")


def _scroll(action: NativeAction) -> list[str]:
    amount = max(-MAX_SCROLL, min(MAX_SCROLL, action.scroll_y))
    where = _point(action) if action.x is not None else {}
    if action.scroll_x and not action.scroll_y:
        return [
            _call("hscroll", amount=max(-MAX_SCROLL, min(MAX_SCROLL, action.scroll_x)), **where)
        ]
    # cradle's scroll: positive scrolls up (pyautogui); models say positive is down.
    return [_call("scroll", amount=-amount, **where)]


def _keys(action: NativeAction) -> list[str]:
    keys = [k for k in action.keys if k]
    if not 1 <= len(keys) <= MAX_KEYS:
        raise ModelReplyError(f"a key action needs 1 to {MAX_KEYS} keys: {action.raw[:200]!r}")
    if action.kind == "hold_key":
        return [_call("hold_key", keys=keys, seconds=min(MAX_WAIT, max(0.0, action.seconds)))]
    if len(keys) == 1:
        return [_call("press_key", key=keys[0])]
    return [SkillCall(skill="hotkey", args=keys).render()]
