"""Loading 1,000 generated skill files into ``SkillRegistry``, trusted and untrusted, and the
cost of one call into a model-written skill (a separate, limited process).

    python -m benchmarks.skills_bench

Each file defines one ``@skill`` with a docstring and two arguments that calls two shared
skills, the shape ``cradle.skills.curated.save_generated`` writes. Trusted: the folder is
loaded as written (compile + exec). Untrusted: every file first passes
``checker.check_untrusted``; only its declarations run here, as for model-written skills.
Each load figure is the median of ``repeat`` cold loads (a new registry each time).

The call figure runs one such skill (it clicks and types through the parent) on a recording
screen, as a trusted file and as a model-written one; the difference is the price of process
isolation: one interpreter start, the request and two nested calls over the pipe.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cradle.gate.executor import execute
from cradle.paths import shared_skills_dir
from cradle.screen.mapping import CoordinateMap
from cradle.screen.mock.screen import MockScreen
from cradle.skills import SkillContext, parse_action
from cradle.skills.registry import SkillRegistry

UNTRUSTED = '''from cradle.skills import skill


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
"""A skill as the model writes it (the sandbox's language: other skills called by name)."""

TRUSTED = '''from cradle.skills import SkillContext, skill
from skills.keyboard import type_text
from skills.mouse import click


@skill
def generated_skill_{i}(ctx: SkillContext, x: int, label: str = "item {i}") -> None:
    """Open item {i} of the list and type its label.

    Args:
        x: Horizontal position of the item, in screenshot pixels.
        label: The text to type once the item is open.
    """
    ctx.call(click, x=x, y={y})
    ctx.call(type_text, text=label)
'''
"""The same skill as a person writes it (imports, ``ctx.call``)."""


def write_skills(folder: Path, count: int, trusted: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    source = TRUSTED if trusted else UNTRUSTED
    for i in range(count):
        (folder / f"generated_skill_{i:04d}.py").write_text(source.format(i=i, y=10 + i % 700))


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


def time_call(folder: Path, trusted: bool, repeat: int) -> float:
    """Median ms of ``generated_skill_0(x=5)`` run by the executor, as trusted or isolated."""
    if trusted:
        registry = SkillRegistry.load(trusted=[shared_skills_dir(), folder])
    else:
        registry = SkillRegistry.load(trusted=[shared_skills_dir()], untrusted=[folder])
    screen = MockScreen(size=(800, 600))
    call = parse_action("generated_skill_0(x=5)", registry)
    samples = []
    for _ in range(repeat):
        ctx = SkillContext(screen=screen, mapping=CoordinateMap((800, 600), screen.geometry))
        started = time.perf_counter()
        execute(call, registry, ctx, timeout=30)
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def run(count: int = 1000, repeat: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cradle-skills-bench-") as tmp:
        folders = {trusted: Path(tmp) / f"skills-{trusted}" for trusted in (True, False)}
        ones = {trusted: Path(tmp) / f"one-{trusted}" for trusted in (True, False)}
        for trusted in (True, False):
            write_skills(folders[trusted], count, trusted)
            write_skills(ones[trusted], 1, trusted)
        trusted_ms, loaded = time_load(folders[True], True, repeat)
        untrusted_ms, _ = time_load(folders[False], False, repeat)
        calls = 10 * repeat
        call_ms = {
            "trusted": time_call(ones[True], True, calls),
            "isolated": time_call(ones[False], False, calls),
        }
    return {
        "files": count,
        "skills_loaded": loaded,
        "trusted_ms": trusted_ms,
        "untrusted_ms": untrusted_ms,
        "repeat": repeat,
        "call_ms": call_ms,
        "calls": calls,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
