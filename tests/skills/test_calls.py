"""Calls between skills: through the context, validated, asked of the guard, bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from cradle.errors import SkillBug, SkillExecutionError
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
    """Calling a plain function is the trusted skill's own bug, not the model's mistake."""
    registry = _registry(tmp_path, "save.py", SAVE)
    with pytest.raises(SkillBug, match="misuse: the skill failed from a fault of its own") as bug:
        execute(parse_action("misuse()", registry), registry, ctx)
    assert "'helper' is not a skill" in bug.value.traceback


MISCALLS = '''
from cradle.skills import SkillContext, skill
from cradle.errors import SkillFeedback
from skills.timing import wait


@skill
def wrong_type(ctx: SkillContext) -> None:
    """Wait for a time given in words."""
    ctx.call(wait, "soon")


@skill
def misspelt(ctx: SkillContext) -> None:
    """Call a skill by a name that is not loaded."""
    ctx.call("hotkee", "ctrl", "s")


@skill
def refuse(ctx: SkillContext) -> None:
    """Tell the model why not, on purpose."""
    raise SkillFeedback("the document is read-only; save a copy instead")


@skill
def outer(ctx: SkillContext) -> None:
    """Call a skill that refuses."""
    ctx.call(refuse)
'''


@pytest.mark.parametrize(
    ("action", "cause"),
    [("wrong_type()", "is not float"), ("misspelt()", "'hotkee' is no longer available")],
)
def test_a_trusted_skills_inner_call_it_got_wrong_is_its_bug(
    tmp_path: Path, ctx, screen, action: str, cause: str
) -> None:
    registry = _registry(tmp_path, "miscalls.py", MISCALLS)
    with pytest.raises(SkillBug, match="fault of its own") as bug:
        execute(parse_action(action, registry), registry, ctx)
    assert cause in bug.value.traceback and screen.calls == []


def test_what_an_inner_skill_says_on_purpose_stays_feedback(tmp_path: Path, ctx) -> None:
    registry = _registry(tmp_path, "miscalls.py", MISCALLS)
    with pytest.raises(SkillExecutionError, match="outer: the document is read-only") as told:
        execute(parse_action("outer()", registry), registry, ctx)
    assert not isinstance(told.value, SkillBug)


def test_a_model_written_skills_inner_call_it_got_wrong_is_feedback(
    tmp_path: Path, ctx, screen
) -> None:
    generated = tmp_path / "generated"
    generated.mkdir()
    (generated / "gen.py").write_text(
        '''
from cradle.skills import skill


@skill
def save_badly(screen) -> None:
    """Wait for a time given in words."""
    wait("soon")
''',
        encoding="utf-8",
    )
    registry = SkillRegistry.load(trusted=[shared_skills_dir()], untrusted=[generated])
    assert registry.problems == []
    with pytest.raises(SkillExecutionError, match="save_badly: .*is not float") as told:
        execute(parse_action("save_badly()", registry), registry, ctx)
    assert not isinstance(told.value, SkillBug) and screen.calls == []
