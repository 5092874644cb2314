"""Keep accepted model-written skills as ordinary skill files.

:func:`save_generated` writes a source that passed the checker into the generated-skills
folder, with a header saying when, from which run and for which task it was written. Load
that folder as *untrusted* (``SkillRegistry.load(trusted=[...], untrusted=[folder])``) so the
checker runs again every time the file is loaded, whoever edited it since.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from cradle.errors import GeneratedSkillRejected
from cradle.skills.checker import check_untrusted

MAX_HEADER_TEXT = 300
MAX_STEM_CHARS = 80


def _one_line(text: object, limit: int = MAX_HEADER_TEXT) -> str:
    """``text`` reduced to one comment-safe line: no line breaks or other non-printables."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in str(text))
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 3] + "..."
    return cleaned


def skill_names(source: str) -> list[str]:
    """Names of the top-level functions in ``source`` (the skills it defines)."""
    tree = ast.parse(source)
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]


def save_generated(
    source: str, folder: Path | str, *, run_id: str, task: str, when: datetime
) -> Path:
    """Write ``source`` (which must pass ``check_untrusted``) as a skill file; returns its path.

    The file is named after the skill(s) it defines (``save_as.py``); an existing file with
    other content is never overwritten (``save_as_2.py``, ...). Identical content is not
    written twice. Raises ``GeneratedSkillRejected`` if the source breaks the policy.
    """
    problems = check_untrusted(source)
    if problems:
        raise GeneratedSkillRejected("; ".join(str(p) for p in problems), problems=problems)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = skill_names(source)
    stem = re.sub(r"[^a-z0-9_]", "_", "_".join(names).lower()).strip("_")[:MAX_STEM_CHARS]
    stem = stem.strip("_") or "generated_skill"

    header = (
        "# Model-written skill, accepted by cradle's untrusted-skill checker.\n"
        "# Load this folder as untrusted: the checker runs again on every load.\n"
        f"# When: {_one_line(when.isoformat())}\n"
        f"# Run: {_one_line(run_id)}\n"
        f"# Task: {_one_line(task)}\n"
        f"# Skills: {_one_line(', '.join(names))}\n"
        "\n"
    )
    body = source.strip("\n") + "\n"
    content = header + body

    candidate = folder / f"{stem}.py"
    n = 1
    while candidate.exists():
        existing = candidate.read_text(encoding="utf-8", errors="replace")
        if existing.split("\n\n", 1)[-1] == body:
            return candidate
        n += 1
        candidate = folder / f"{stem}_{n}.py"

    fd, tmp = tempfile.mkstemp(dir=folder, prefix="_tmp_", suffix=".py")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
        os.replace(tmp, candidate)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return candidate
