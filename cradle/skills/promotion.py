"""Promote the skills an episode wrote into the shared generated-skills folder.

While an episode runs, the skills it writes live in its own folder (inside its run folder),
so two episodes running at once never see each other's skills. When an episode ends, its
accepted skills can be *promoted*: copied into the shared folder (``--generated-skills-dir``)
that later episodes load. Promotion goes through :func:`save_generated` again, so the
checker runs once more on what is copied (the file may have been edited since), identical
sources are not copied twice, and no file is overwritten. A skill whose name the shared folder
already defines with other code is not promoted (two definitions of one name would make the
second a load error for every later run); it stays in the run folder and the reason is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cradle.errors import GeneratedSkillRejected
from cradle.skills.checker import MAX_SOURCE_CHARS
from cradle.skills.curated import save_generated, skill_names
from cradle.skills.folders import skill_files
from cradle.types import utc_now

MAX_SKILL_FILE_BYTES = 1_000_000
"""Larger files in either folder are not read (an accepted source is far smaller)."""


@dataclass
class Promotion:
    """What a promotion did: files written to the shared folder, and skills left behind."""

    promoted: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """One reason per file that stayed in the episode's folder."""


def _body(path: Path) -> str | None:
    """The source of a generated skill file without its header; None if unreadable."""
    try:
        if path.stat().st_size > MAX_SKILL_FILE_BYTES:
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    body = text.split("\n\n", 1)[-1] if text.startswith("#") else text
    return body.strip("\n") + "\n"


def skill_sources(folder: Path) -> list[str]:
    """The source of each readable skill file of ``folder`` (without the header
    :func:`save_generated` wrote), in file name order."""
    return [body for path in skill_files(folder) if (body := _body(path)) is not None]


def _defined(folder: Path) -> dict[str, str]:
    """Skill name -> source body, for every readable skill file of the shared folder."""
    found: dict[str, str] = {}
    for path in skill_files(folder):
        body = _body(path)
        if body is None:
            continue
        try:
            names = skill_names(body)
        except (SyntaxError, ValueError):
            continue
        for name in names:
            found.setdefault(name, body)
    return found


def promote(episode_folder: Path, shared: Path, *, run_id: str, task: str) -> Promotion:
    """Copy each skill file of ``episode_folder`` into ``shared``; see the module docstring."""
    result = Promotion()
    files = skill_files(episode_folder)
    if not files:
        return result
    defined = _defined(shared)
    for path in files:
        body = _body(path)
        if body is None or len(body) > MAX_SOURCE_CHARS:
            result.refused.append(f"{path.name}: unreadable or too large")
            continue
        try:
            names = skill_names(body)
        except (SyntaxError, ValueError) as exc:
            result.refused.append(f"{path.name}: not Python ({exc})")
            continue
        if names and all(defined.get(name) == body for name in names):
            continue  # already promoted (a resumed run, or the same skill written twice)
        taken = [name for name in names if name in defined]
        if taken:
            result.refused.append(
                f"{path.name}: {', '.join(taken)} already defined in {shared} with other "
                "code; kept in the run folder"
            )
            continue
        try:
            saved = save_generated(body, shared, run_id=run_id, task=task, when=utc_now())
        except GeneratedSkillRejected as exc:
            result.refused.append(f"{path.name}: rejected by the checker: {exc}")
            continue
        except OSError as exc:
            result.refused.append(f"{path.name}: cannot write to {shared}: {exc.strerror or exc}")
            continue
        defined.update(dict.fromkeys(names, body))
        result.promoted.append(saved)
    return result
