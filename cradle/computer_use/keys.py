"""Key names as computer-use models write them, in cradle's spelling.

Anthropic's computer tool speaks xdotool (``Return``, ``ctrl+s``, ``Page_Down``, ``KP_0``,
``super``); OpenAI's computer-use model writes upper-case names in a list (``["CTRL", "A"]``,
``ENTER``, ``ARROWLEFT``). Both become the pyautogui names cradle's skills and screens use
(:func:`cradle.screen.base.normalize_key`); a name that is still unknown is left for the
skill to refuse, with its usual "did you mean" message the model reads next step.
"""

from __future__ import annotations

import re

from cradle.screen.base import normalize_key

NATIVE_KEYS: dict[str, str] = {
    "page_up": "pageup",
    "page_down": "pagedown",
    "prior": "pageup",
    "next": "pagedown",
    "backspace": "backspace",
    "back_space": "backspace",
    "kp_enter": "enter",
    "arrowup": "up",
    "arrowdown": "down",
    "arrowleft": "left",
    "arrowright": "right",
    "control_l": "ctrlleft",
    "control_r": "ctrlright",
    "shift_l": "shiftleft",
    "shift_r": "shiftright",
    "alt_l": "altleft",
    "alt_r": "altright",
    "super_l": "winleft",
    "super_r": "winright",
    "meta": "command",
    "caps_lock": "capslock",
    "num_lock": "numlock",
    "scroll_lock": "scrolllock",
    "print": "printscreen",
    "ins": "insert",
    "option": "option",
    "kp_add": "add",
    "kp_subtract": "subtract",
    "kp_multiply": "multiply",
    "kp_divide": "divide",
    "kp_decimal": "decimal",
    "minus": "-",
    "plus": "+",
    "equal": "=",
    "comma": ",",
    "period": ".",
    "slash": "/",
    "backslash": "\\",
    "semicolon": ";",
    "apostrophe": "'",
    "grave": "`",
    "bracketleft": "[",
    "bracketright": "]",
}
_KEYPAD = re.compile(r"kp_(\d)")


def native_key(name: str) -> str:
    """One key as a model wrote it, in cradle's spelling (``Return`` -> ``enter``)."""
    name = name.strip() if len(name) > 1 else name
    lowered = name.lower() if len(name) > 1 else name
    digit = _KEYPAD.fullmatch(lowered)
    if digit:
        return f"num{digit.group(1)}"
    return normalize_key(NATIVE_KEYS.get(lowered, lowered))


def native_chord(text: str) -> tuple[str, ...]:
    """An xdotool chord (``ctrl+shift+t``; a lone ``+`` is the plus key) as key names."""
    text = text.strip()
    if text in ("+", ""):
        return (text,) if text else ()
    parts = [p for p in text.split("+")]
    if text.endswith("++"):  # "ctrl++" is ctrl and plus
        parts = [*parts[:-2], "+"]
    return tuple(native_key(p) for p in parts if p)
