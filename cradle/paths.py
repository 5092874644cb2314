"""Where the shared folders (skills/, prompts/, environments/) are found.

In a checkout (and ``pip install -e .``) they live beside the ``cradle`` package. A built wheel
(``pip install .``, ``pipx install``) maps them into the package as ``cradle/_shipped/`` (see
pyproject.toml), so an installed cradle is complete wherever it is run from. ``CRADLE_HOME``
points elsewhere, for installs that keep them in another folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SHIPPED = "_shipped"
"""The package folder that receives skills/, prompts/ and environments/ in a built wheel."""


def project_dir() -> Path:
    """The folder holding skills/, prompts/ and environments/.

    ``CRADLE_HOME`` first; then the copy inside an installed wheel; then the checkout that
    holds this package. The wheel's copy wins over the folder above the package because, once
    installed, that folder is site-packages, where another distribution may own a "skills/".
    """
    home = os.environ.get("CRADLE_HOME")
    if home:
        return Path(home)
    package = Path(__file__).resolve().parent
    shipped = package / SHIPPED
    if shipped.is_dir():
        return shipped
    return package.parent


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
