"""Which files of the skill folders are skill files, and whether they changed.

A skill folder holds one skill file per ``*.py`` not starting with ``_``. The registry lists
them between steps; only ``stat`` calls happen when nothing changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cradle.errors import SkillDefinitionError

Stamp = tuple[int, int]
"""``(mtime_ns, size)``: a file counts as changed when either differs."""
Listing = dict[str, tuple[Path, bool, Stamp]]
"""Resolved path as text -> (path, trusted, stamp), in load order."""


def skill_files(folder: Path) -> list[Path]:
    """The skill files of ``folder`` (``*.py``, not ``_*``), in name order."""
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]


def list_files(folders: Sequence[tuple[Path, bool]]) -> tuple[Listing, list[SkillDefinitionError]]:
    """Every skill file of ``folders`` (``(folder, trusted)``; a file given on its own counts
    as itself), the first listing of a file winning; and the folders that do not exist."""
    listing: Listing = {}
    problems: list[SkillDefinitionError] = []
    for folder, trusted in folders:
        if folder.is_file():
            paths = [folder]  # one file given on its own (``cradle skills check FILE``)
        elif folder.is_dir():
            paths = skill_files(folder)
        else:
            problems.append(SkillDefinitionError("skill folder does not exist", path=str(folder)))
            continue
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                continue
            resolved = path.resolve()
            listing.setdefault(str(resolved), (resolved, trusted, (st.st_mtime_ns, st.st_size)))
    return listing, problems
