"""Loading 1,000 generated skill files into ``SkillRegistry``, trusted and untrusted.

    python -m benchmarks.skills_bench

Each file defines one ``@skill`` with a docstring and two arguments that calls two shared
skills, the shape ``cradle.skills.curated.save_generated`` writes. Trusted: the folder is
loaded as written (compile + exec). Untrusted: every file first passes
``checker.check_untrusted`` and runs in the sandbox namespace, as model-written skills do.
Each figure is the median of ``repeat`` cold loads (a new registry each time).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cradle.paths import shared_skills_dir
from cradle.skills.registry import SkillRegistry

SOURCE = '''from cradle.skills import skill


@skill
def generated_skill_{i}(screen, x: int, label: str = "item {i}") -> None:
    """Open item {i} of the list and type its label.

    Args:
        x: Horizontal position of the item, in screenshot pixels.
        label: The text to type once the item is open.
    """
    click(x=x, y={y})
    type_text(text=label)
'''


def write_skills(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"generated_skill_{i:04d}.py").write_text(SOURCE.format(i=i, y=10 + i % 700))


def time_load(folder: Path, trusted: bool, repeat: int) -> tuple[float, int]:
    samples = []
    loaded = 0
    for _ in range(repeat):
        started = time.perf_counter()
        if trusted:
            registry = SkillRegistry.load(trusted=[shared_skills_dir(), folder])
        else:
            registry = SkillRegistry.load(trusted=[shared_skills_dir()], untrusted=[folder])
        samples.append((time.perf_counter() - started) * 1000)
        loaded = len(registry)
        if registry.problems:
            raise RuntimeError(f"skill files failed to load: {registry.problems[0]}")
    return round(statistics.median(samples), 1), loaded


def run(count: int = 1000, repeat: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cradle-skills-bench-") as tmp:
        folder = Path(tmp) / "skills"
        write_skills(folder, count)
        trusted_ms, loaded = time_load(folder, True, repeat)
        untrusted_ms, _ = time_load(folder, False, repeat)
    return {"files": count, "skills_loaded": loaded, "trusted_ms": trusted_ms,
            "untrusted_ms": untrusted_ms, "repeat": repeat}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
