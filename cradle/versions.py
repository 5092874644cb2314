"""Versions recorded in run.json, so a run can be explained later."""

from __future__ import annotations

import platform
from importlib import metadata

import cradle

_PACKAGES = (
    "openai",
    "pydantic",
    "pillow",
    "chromadb",
    "mss",
    "pyautogui",
    "opencv-python-headless",
)


def versions() -> dict[str, str]:
    found = {
        "cradle": cradle.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
