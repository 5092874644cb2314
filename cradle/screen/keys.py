"""Names of keys the input layer can press, without importing pyautogui (which needs a display).

The names follow pyautogui's spelling. ``validate_key`` applies
:func:`cradle.screen.base.normalize_key` first, so aliases such as ``return``, ``escape`` or
``control`` are accepted and come out in their one canonical spelling.
"""

from __future__ import annotations

import difflib
import string

from cradle.errors import SkillExecutionError
from cradle.screen.base import normalize_key

_PRINTABLE_CHARS = frozenset(string.ascii_letters + string.digits + string.punctuation)

_NAMED_KEYS = frozenset(
    {
        # editing and navigation
        "enter",
        "tab",
        "esc",
        "backspace",
        "delete",
        "insert",
        "home",
        "end",
        "pageup",
        "pagedown",
        "up",
        "down",
        "left",
        "right",
        "space",
        "clear",
        # modifiers
        "shift",
        "shiftleft",
        "shiftright",
        "ctrl",
        "ctrlleft",
        "ctrlright",
        "alt",
        "altleft",
        "altright",
        "command",
        "option",
        "optionleft",
        "optionright",
        "win",
        "winleft",
        "winright",
        "fn",
        # locks and system keys
        "capslock",
        "numlock",
        "scrolllock",
        "printscreen",
        "prtsc",
        "prtscr",
        "prntscrn",
        "print",
        "pause",
        "apps",
        "menu",
        "help",
        "select",
        "execute",
        "sleep",
        # numeric keypad
        "num0",
        "num1",
        "num2",
        "num3",
        "num4",
        "num5",
        "num6",
        "num7",
        "num8",
        "num9",
        "add",
        "subtract",
        "multiply",
        "divide",
        "decimal",
        "separator",
        # media and browser keys
        "volumeup",
        "volumedown",
        "volumemute",
        "playpause",
        "stop",
        "nexttrack",
        "prevtrack",
        "browserback",
        "browserforward",
        "browserrefresh",
        "browserhome",
        "browsersearch",
        "browserfavorites",
        "browserstop",
        "launchmail",
        "launchmediaselect",
        "launchapp1",
        "launchapp2",
        # input method keys
        "accept",
        "convert",
        "nonconvert",
        "modechange",
        "final",
        "kana",
        "kanji",
        "hangul",
        "hanguel",
        "hanja",
        "junja",
        "yen",
    }
    | {f"f{n}" for n in range(1, 25)}
)

_CONTROL_CHARS = {"\n": "enter", "\r": "enter", "\t": "tab"}

VALID_KEYS: frozenset[str] = _NAMED_KEYS | _PRINTABLE_CHARS
"""Every key name ``validate_key`` accepts (after alias normalization)."""


def validate_key(key: str) -> str:
    """The canonical name of ``key``; ``SkillExecutionError`` with close matches if unknown."""
    if not isinstance(key, str) or not key:
        raise SkillExecutionError(f"key must be a non-empty key name, got {key!r}")
    name = _CONTROL_CHARS.get(key) or normalize_key(key)
    if name in VALID_KEYS:
        return name
    close = difflib.get_close_matches(name.lower(), sorted(_NAMED_KEYS), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise SkillExecutionError(
        f"unknown key {key!r}{hint} (use names such as enter, tab, esc, ctrl, shift, alt, "
        "f1-f24, a-z, 0-9)"
    )
