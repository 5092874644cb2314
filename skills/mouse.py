"""Common mouse skills. Coordinates are pixels of the screenshot the model saw."""

from __future__ import annotations

from cradle.skills import skill


@skill
def click(screen, x: int, y: int) -> None:
    """Click the left mouse button at (x, y) on the screenshot.

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    screen.click(x, y)


@skill
def double_click(screen, x: int, y: int) -> None:
    """Double-click the left mouse button at (x, y) on the screenshot.

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    screen.click(x, y, clicks=2)


@skill
def right_click(screen, x: int, y: int) -> None:
    """Click the right mouse button at (x, y) on the screenshot (opens context menus).

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    screen.click(x, y, button="right")


@skill
def move_to(screen, x: int, y: int) -> None:
    """Move the mouse pointer to (x, y) on the screenshot without clicking.

    Args:
        x: Horizontal pixel position on the screenshot.
        y: Vertical pixel position on the screenshot.
    """
    screen.move(x, y)


@skill
def drag(screen, x1: int, y1: int, x2: int, y2: int) -> None:
    """Press the left button at (x1, y1), move to (x2, y2) and release.

    Args:
        x1: Horizontal pixel where the drag starts.
        y1: Vertical pixel where the drag starts.
        x2: Horizontal pixel where the drag ends.
        y2: Vertical pixel where the drag ends.
    """
    screen.drag(x1, y1, x2, y2)


@skill
def scroll(screen, amount: int, x: int | None = None, y: int | None = None) -> None:
    """Scroll the mouse wheel by amount notches (positive scrolls up), at (x, y) if given.

    Args:
        amount: Notches to scroll; positive is up, negative is down.
        x: Horizontal pixel to scroll at; give both x and y or neither.
        y: Vertical pixel to scroll at; give both x and y or neither.
    """
    screen.scroll(amount, x, y)
