"""Calls between skills: through the context, validated, asked of the guard, bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from cradle.errors import SkillExecutionError
from cradle.gate.executor import execute
from cradle.paths import shared_skills_dir
from cradle.skills import SkillRegistry, parse_action
from cradle.skills.calls import MAX_CALL_DEPTH

DEEPER = '''
from cradle.skills import SkillContext, skill


@skill
def deeper(ctx: SkillContext, n: int) -> int:
    """Call itself once more.

    Args:
        n: How deep this call is.
    """
    return ctx.call(deeper, n + 1)
'''

SAVE = '''
from cradle.skills import SkillContext, skill
from skills.keyboard import hotkey


def helper(ctx: SkillContext) -> None:
    """Not a skill."""


@skill
def save(ctx: SkillContext) -> None:
    """Save the document."""
    ctx.call(hotkey, "ctrl", "s")


@skill
def misuse(ctx: SkillContext) -> None:
    """Call a plain function as if it were a skill."""
    ctx.call(helper)
'''


def _registry(tmp_path: Path, name: str, source: str) -> SkillRegistry:
    (tmp_path / name).write_text(source, encoding="utf-8")
    registry = SkillRegistry.load([shared_skills_dir(), tmp_path])
    assert registry.problems == []
    return registry


def test_skills_calling_skills_are_bounded(tmp_path: Path, ctx) -> None:
    registry = _registry(tmp_path, "deeper.py", DEEPER)
    with pytest.raises(SkillExecutionError, match=f"more than {MAX_CALL_DEPTH} deep"):
        execute(parse_action("deeper(0)", registry), registry, ctx)


def test_the_guard_is_asked_before_an_inner_call(tmp_path: Path, ctx, screen) -> None:
    registry = _registry(tmp_path, "save.py", SAVE)
    asked = []

    def guard(skill, call) -> str:
        asked.append((skill.name, call.args))
        return "needs a person's yes" if call.skill == "hotkey" else ""

    ctx.guard = guard
    with pytest.raises(SkillExecutionError, match="save: hotkey: needs a person's yes"):
        execute(parse_action("save()", registry), registry, ctx)
    assert asked == [("hotkey", ["ctrl", "s"])] and screen.calls == []

    ctx.guard = None
    execute(parse_action("save()", registry), registry, ctx)
    assert screen.calls == [("hotkey", "ctrl", "s")]


def test_only_skills_can_be_called(tmp_path: Path, ctx) -> None:
    registry = _registry(tmp_path, "save.py", SAVE)
    with pytest.raises(SkillExecutionError, match="'helper' is not a skill"):
        execute(parse_action("misuse()", registry), registry, ctx)
