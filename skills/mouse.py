"""Common mouse skills. Coordinates are pixels of the screenshot the model saw."""

from __future__ import annotations

from cradle.errors import SkillExecutionError
from cradle.screen.base import MouseButton
from cradle.skills import SkillContext, skill

MAX_HSCROLL = 50


def _click(ctx: SkillContext, x: int, y: int, button: MouseButton, clicks: int) -> None:
    """What every click variant does; they differ in their button and count (and docstring)."""
    ctx.click(x, y, button=button, clicks=clicks)


@skill
def click(ctx: SkillContext, x: int, y: int) -> None:
    """Click the left mouse button at (x, y) on the screenshot.

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    _click(ctx, x, y, "left", 1)


@skill
def double_click(ctx: SkillContext, x: int, y: int) -> None:
    """Double-click the left mouse button at (x, y) on the screenshot.

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    _click(ctx, x, y, "left", 2)


@skill
def right_click(ctx: SkillContext, x: int, y: int) -> None:
    """Click the right mouse button at (x, y) on the screenshot (opens context menus).

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    _click(ctx, x, y, "right", 1)


@skill
def move_to(ctx: SkillContext, x: int, y: int) -> None:
    """Move the mouse pointer to (x, y) on the screenshot without clicking.

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    ctx.move(x, y)


@skill
def drag(ctx: SkillContext, x1: int, y1: int, x2: int, y2: int) -> None:
    """Press the left button at (x1, y1), move to (x2, y2) and release.

    Args:
        x1: Horizontal pixel where the drag starts.
        y1: Vertical pixel where the drag starts.
        x2: Horizontal pixel where the drag ends.
        y2: Vertical pixel where the drag ends.
    """
    ctx.drag(x1, y1, x2, y2)


@skill
def scroll(ctx: SkillContext, amount: int, x: int | None = None, y: int | None = None) -> None:
    """Scroll the mouse wheel by amount notches (positive scrolls up), at (x, y) if given.

    Args:
        amount: Notches to scroll; positive is up, negative is down.
        x: Horizontal pixel to scroll at; give both x and y or neither.
        y: Vertical pixel to scroll at; give both x and y or neither.
    """
    ctx.scroll(amount, x, y)


@skill
def triple_click(ctx: SkillContext, x: int, y: int) -> None:
    """Triple-click the left mouse button at (x, y) on the screenshot (selects a line).

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    _click(ctx, x, y, "left", 3)


@skill
def middle_click(ctx: SkillContext, x: int, y: int) -> None:
    """Click the middle mouse button at (x, y) on the screenshot.

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    _click(ctx, x, y, "middle", 1)


@skill
def mouse_down(ctx: SkillContext, x: int | None = None, y: int | None = None) -> None:
    """Press the left mouse button and keep it down, at (x, y) if given (then mouse_up).

    Args:
        x: Horizontal pixel to press at; give both x and y or neither.
        y: Vertical pixel to press at; give both x and y or neither.
    """
    ctx.mouse_down(x, y)


@skill
def mouse_up(ctx: SkillContext, x: int | None = None, y: int | None = None) -> None:
    """Release the left mouse button, at (x, y) if given.

    Args:
        x: Horizontal pixel to release at; give both x and y or neither.
        y: Vertical pixel to release at; give both x and y or neither.
    """
    ctx.mouse_up(x, y)


@skill
def hscroll(ctx: SkillContext, amount: int, x: int | None = None, y: int | None = None) -> None:
    """Scroll sideways by amount notches (positive scrolls right), at (x, y) if given.

    Args:
        amount: Notches to scroll; positive is right, negative is left.
        x: Horizontal pixel to scroll at; give both x and y or neither.
        y: Vertical pixel to scroll at; give both x and y or neither.
    """
    if abs(amount) > MAX_HSCROLL:
        raise SkillExecutionError(f"scroll at most {MAX_HSCROLL} notches at a time")
    ctx.hscroll(amount, x, y)
