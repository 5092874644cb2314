"""``--env-option key=value`` flags (repeatable) turned into keyword options of an environment.

Values look like what they are: ``monitor=2`` is an int, ``pause=0.05`` a float,
``crop=false`` a bool, ``launch=xterm -title T`` a string (everything after the first ``=``).
Quote the whole flag value in the shell when it contains spaces.
"""

from __future__ import annotations

import re
from typing import Any

from cradle.errors import ConfigError

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_value(text: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"``/``"no"`` -> bool, ``"none"`` -> None, else str."""
    value = text.strip()
    lowered = value.lower()
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    if lowered in ("none", "null"):
        return None
    return text


def parse_env_options(values: list[str] | None) -> dict[str, Any]:
    """``["monitor=2", "window_title=My App"]`` -> ``{"monitor": 2, "window_title": "My App"}``.

    A repeated key keeps its last value (so a later flag overrides an earlier one). Raises
    ``ConfigError`` (one line, usage exit) for an item without ``=`` or with a bad key.
    """
    options: dict[str, Any] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not _KEY.match(key):
            raise ConfigError(
                f"bad --env-option {item!r}: use key=value, e.g. --env-option monitor=2"
            )
        options[key] = parse_value(raw)
    return options
