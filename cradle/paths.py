"""Where the shared folders (skills/, prompts/, environments/) are found.

They live beside the ``cradle`` package in a checkout (``pip install -e .``). ``CRADLE_HOME``
points elsewhere, for installs that keep them in another folder.
"""

from __future__ import annotations

import os
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
