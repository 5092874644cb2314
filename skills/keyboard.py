"""Common keyboard skills. Key names follow pyautogui (enter, tab, esc, ctrl, f5, a, ...)."""

from __future__ import annotations

import time

from cradle.errors import SkillExecutionError
from cradle.screen.keys import validate_key
from cradle.skills import SkillContext, skill

MAX_TEXT_CHARS = 2000
MAX_HOLD_SECONDS = 10.0


@skill
def type_text(ctx: SkillContext, text: str) -> None:
    """Type text at the keyboard focus, as key presses (a newline presses Enter).

    Args:
        text: The text to type.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise SkillExecutionError(
            f"text is {len(text)} characters; type at most {MAX_TEXT_CHARS} per call"
        )
    ctx.type_text(text)


@skill
def press_key(ctx: SkillContext, key: str) -> None:
    """Press and release one key, e.g. enter, tab, esc, backspace, f5 or a.

    Args:
        key: Key name such as enter, tab, esc, up, pagedown, f5, a or 1.
    """
    ctx.press(validate_key(key))


@skill
def hotkey(ctx: SkillContext, *keys: str) -> None:
    """Press keys together as a shortcut, e.g. hotkey("ctrl", "s"), then release them.

    Args:
        keys: Key names in press order, modifiers first, e.g. "ctrl", "shift", "t".
    """
    if not keys:
        raise SkillExecutionError('hotkey needs at least one key, e.g. hotkey("ctrl", "c")')
    if len(keys) > 6:
        raise SkillExecutionError("hotkey takes at most 6 keys")
    ctx.hotkey(*(validate_key(k) for k in keys))


@skill
def hold_key(ctx: SkillContext, keys: list[str], seconds: float) -> None:
    """Hold keys down together for seconds (at most 10), then release them.

    Args:
        keys: Key names to hold, e.g. ["shift"] or ["ctrl", "alt"] (at most 6).
        seconds: How long to hold them, from 0 to 10.
    """
    if not 1 <= len(keys) <= 6:
        raise SkillExecutionError("hold_key takes 1 to 6 keys")
    if seconds != seconds or not 0 <= seconds <= MAX_HOLD_SECONDS:  # NaN too
        raise SkillExecutionError(f"seconds must be between 0 and {MAX_HOLD_SECONDS:g}")
    names = [validate_key(k) for k in keys]
    held: list[str] = []
    try:
        for name in names:
            ctx.key_down(name)
            held.append(name)
        end = time.monotonic() + float(seconds)
        while (left := end - time.monotonic()) > 0:  # short slices: the time limit is checked
            time.sleep(min(left, 0.05))
    finally:
        for name in reversed(held):
            ctx.key_up(name)
