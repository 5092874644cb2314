"""Skills calling skills: each inner call passes the same gate as the model's own actions.

A running skill calls another through its context, ``ctx.call(hotkey, "ctrl", "s")``; a
model-written one running in its sandbox process calls by name and the parent answers
(:mod:`cradle.skills.isolation`). Either way the call is looked up in the registry *at call
time* (load order and later reloads do not matter), its arguments are validated like a
top-level action, the context's guard (allow/deny lists, confirmation) is asked, and nesting
is bounded.

:func:`current_context` is for code that is not a skill but runs under one (a helper deep in
a call chain); skills get their context as their first parameter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cradle.errors import ActionRejected, SkillCallError, SkillExecutionError
from cradle.types import SkillCall

if TYPE_CHECKING:
    from cradle.skills.context import SkillContext
    from cradle.skills.decorator import Skill
    from cradle.skills.registry import SkillRegistry

MAX_CALL_DEPTH = 16

_current_context: ContextVar[SkillContext | None] = ContextVar("cradle_skill_context", default=None)


def current_context() -> SkillContext:
    """The context of the skill running now; ``SkillExecutionError`` outside a skill."""
    ctx = _current_context.get()
    if ctx is None:
        raise SkillExecutionError("no skill is running (skills call skills only while running)")
    return ctx


@contextmanager
def skill_context(ctx: SkillContext) -> Iterator[SkillContext]:
    """Make ``ctx`` what :func:`current_context` returns, for the ``with`` block."""
    token = _current_context.set(ctx)
    try:
        yield ctx
    finally:
        _current_context.reset(token)


def prepare_call(
    registry: SkillRegistry,
    name: str,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    ctx: SkillContext,
) -> tuple[Skill, list[Any], dict[str, Any]]:
    """Look up, validate and gate a call one skill makes to another.

    Raises ``SkillCallError`` (unknown skill, arguments that do not fit: the caller's
    mistake) or ``SkillExecutionError`` (refused by the guard).
    """
    target = registry.get(name)
    if target is None:
        raise SkillCallError(f"skill {name!r} is no longer available")
    try:
        args_list, kwargs_dict = target.validate(args, kwargs)
    except ActionRejected as exc:
        raise SkillCallError(str(exc)) from None
    if ctx.guard is not None:
        refusal = ctx.guard(target, SkillCall(skill=name, args=args_list, kwargs=kwargs_dict))
        if refusal:
            raise SkillExecutionError(f"{name}: {refusal}")
    return target, args_list, kwargs_dict


def call_prepared(
    target: Skill, args: Sequence[Any], kwargs: Mapping[str, Any], ctx: SkillContext
) -> Any:
    """Run a call :func:`prepare_call` let through, one level deeper, within the bound."""
    if ctx.depth >= MAX_CALL_DEPTH:
        raise SkillExecutionError(f"skills call each other more than {MAX_CALL_DEPTH} deep")
    return target.func(replace(ctx, depth=ctx.depth + 1), *args, **kwargs)
