"""Desktop options from keyword arguments and ``CRADLE_DESKTOP_*`` variables, checked once.

Variables let a user (or a test) configure the environment before ``cradle run`` has an
``--env-option`` flag, and keep per-machine settings (which monitor) out of commands.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cradle.cli.env_options import parse_value
from cradle.environment import check_option_names
from cradle.errors import ConfigError
from cradle.screen.stop import DEFAULT_STOP_HOTKEY, DISABLED, validate_hotkey

VARIABLES = {
    "monitor": "CRADLE_DESKTOP_MONITOR",
    "launch": "CRADLE_DESKTOP_LAUNCH",
    "window_title": "CRADLE_DESKTOP_WINDOW",
    "crop": "CRADLE_DESKTOP_CROP",
    "window_timeout": "CRADLE_DESKTOP_TIMEOUT",
    "pause": "CRADLE_DESKTOP_PAUSE",
    "marks": "CRADLE_DESKTOP_MARKS",
    "ocr": "CRADLE_DESKTOP_OCR",
    "accessibility": "CRADLE_DESKTOP_ACCESSIBILITY",
    "stop_hotkey": "CRADLE_DESKTOP_STOP_HOTKEY",
}


HELP = {
    "monitor": "mss monitor index: 1 = first (default), 0 = all",
    "launch": "command started by start() (no shell), terminated by close()",
    "window_title": "title (regex) of the app window to wait for, focus and keep focused",
    "crop": "crop captures to that window (default true)",
    "window_timeout": "seconds to wait for the window (default 15)",
    "pause": "pyautogui.PAUSE after each input (default 0)",
    "marks": "set-of-mark boxes on the model image (default true)",
    "ocr": "read screen text each changed step (default: true when tesseract is installed)",
    "accessibility": "read the apps' accessibility tree for elements, names and actions "
    "(AT-SPI on Linux; default true; false: pixels only)",
    "stop_hotkey": "global chord that stops the run like Ctrl+C; none turns it off",
}
"""What each option means: the names ``--env-option`` accepts (the same as ``VARIABLES``)."""


@dataclass(frozen=True)
class DesktopOptions:
    monitor: int = 1
    launch: str | None = None
    window_title: str | None = None
    crop: bool = True
    window_timeout: float = 15.0
    pause: float = 0.0
    marks: bool = True
    ocr: bool = True
    accessibility: bool = True
    stop_hotkey: str | None = DEFAULT_STOP_HOTKEY
    """Global chord that stops the run (pynput syntax); None when turned off."""


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ConfigError(f"desktop option {name}={value!r} must be true or false")


def _number(name: str, value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"desktop option {name}={value!r} must be a number")
    if kind is int and value != int(value):
        raise ConfigError(f"desktop option {name}={value!r} must be a whole number")
    if value < 0:
        raise ConfigError(f"desktop option {name}={value!r} must not be negative")
    return kind(value)


def resolve_options(
    options: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> DesktopOptions:
    """Options given explicitly, else their variable, else the default; ``ConfigError`` if bad."""
    environ = os.environ if env is None else env
    check_option_names("desktop", options, VARIABLES)
    raw: dict[str, Any] = {}
    for name, variable in VARIABLES.items():
        if name in options:
            raw[name] = options[name]
        elif environ.get(variable, "") != "":
            text = environ[variable]
            raw[name] = (
                text if name in ("launch", "window_title", "stop_hotkey") else parse_value(text)
            )
    if "ocr" not in raw:
        raw["ocr"] = shutil.which("tesseract") is not None
    defaults = DesktopOptions()
    title = raw.get("window_title", defaults.window_title)
    launch = raw.get("launch", defaults.launch)
    return DesktopOptions(
        monitor=_number("monitor", raw.get("monitor", defaults.monitor), int),
        launch=str(launch) if launch not in (None, "") else None,
        window_title=str(title) if title not in (None, "") else None,
        crop=_bool("crop", raw.get("crop", defaults.crop)),
        window_timeout=_number(
            "window_timeout", raw.get("window_timeout", defaults.window_timeout), float
        ),
        pause=_number("pause", raw.get("pause", defaults.pause), float),
        marks=_bool("marks", raw.get("marks", defaults.marks)),
        ocr=_bool("ocr", raw["ocr"]),
        accessibility=_bool("accessibility", raw.get("accessibility", defaults.accessibility)),
        stop_hotkey=_hotkey(raw.get("stop_hotkey", defaults.stop_hotkey)),
    )


def _hotkey(value: Any) -> str | None:
    if value is None or value is False or str(value).strip().lower() in DISABLED:
        return None
    try:
        return validate_hotkey(str(value))
    except ValueError as exc:
        raise ConfigError(f"desktop option {exc}") from None
