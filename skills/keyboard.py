"""Common keyboard skills. Key names follow pyautogui (enter, tab, esc, ctrl, f5, a, ...)."""

from __future__ import annotations

from cradle.errors import SkillExecutionError
from cradle.screen.keys import validate_key
from cradle.skills import skill

MAX_TEXT_CHARS = 2000


@skill
def type_text(screen, text: str) -> None:
    """Type text at the keyboard focus, as key presses (a newline presses Enter).

    Args:
        text: The text to type.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise SkillExecutionError(
            f"text is {len(text)} characters; type at most {MAX_TEXT_CHARS} per call"
        )
    screen.type_text(text)


@skill
def press_key(screen, key: str) -> None:
    """Press and release one key, e.g. enter, tab, esc, backspace, f5 or a.

    Args:
        key: Key name such as enter, tab, esc, up, pagedown, f5, a or 1.
    """
    screen.press(validate_key(key))


@skill
def hotkey(screen, *keys: str) -> None:
    """Press keys together as a shortcut, e.g. hotkey("ctrl", "s"), then release them.

    Args:
        keys: Key names in press order, modifiers first, e.g. "ctrl", "shift", "t".
    """
    if not keys:
        raise SkillExecutionError('hotkey needs at least one key, e.g. hotkey("ctrl", "c")')
    if len(keys) > 6:
        raise SkillExecutionError("hotkey takes at most 6 keys")
    screen.hotkey(*(validate_key(k) for k in keys))
