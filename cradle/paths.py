"""Where the shared folders (skills/, prompts/, environments/) are found.

They live beside the ``cradle`` package in a checkout (``pip install -e .``). ``CRADLE_HOME``
points elsewhere, for installs that keep them in another folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def project_dir() -> Path:
    """The folder holding skills/, prompts/ and environments/."""
    home = os.environ.get("CRADLE_HOME")
    if home:
        return Path(home)
    return Path(__file__).resolve().parent.parent


def shared_skills_dir() -> Path:
    return project_dir() / "skills"


def shared_prompts_dir() -> Path:
    return project_dir() / "prompts"


def data_dir() -> Path:
    """Per-user state kept across runs (skill statistics, memory).

    ``CRADLE_DATA_DIR`` wins; otherwise the platform's usual place: XDG on Linux,
    Application Support on macOS, LOCALAPPDATA on Windows.
    """
    explicit = os.environ.get("CRADLE_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "cradle"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "cradle"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "cradle"
