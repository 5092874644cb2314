"""Run one validated :class:`~cradle.types.SkillCall` against the screen.

Errors: an unknown skill or arguments that do not fit the signature raise ``ActionRejected``
before anything runs (the model's mistake). What a skill raises on purpose - any
:class:`~cradle.errors.CradleError`, usually ``SkillFeedback`` / ``SkillExecutionError`` - becomes
``SkillExecutionError("<skill>: <message>")``, feedback for the model. Any other exception is a
bug, and so is a ``SkillCallError`` (a call to another skill that cannot work as written): in
a trusted skill it becomes ``SkillBug`` with the traceback, for the skill's author
(the model did not cause it); in a model-written skill it is the model's code, so feedback
again. ``EnvironmentFailure`` and ``RunInterrupted`` must end the run and so pass through, as
do ``KeyboardInterrupt`` and ``SystemExit``.

Time limit: the deadline travels in the context (``SkillContext.deadline``). A model-written
skill runs in a separate process that is killed when it passes (:mod:`cradle.skills.isolation`;
``SkillKilled`` then passes through, so the caller can retire the skill). A trusted skill runs
in the calling thread with a ``sys.settrace`` hook that traces only frames whose code comes
from a loaded skill file (:meth:`SkillRegistry.source_files`) and checks the deadline on every
call and line event there. Past it, it raises an internal ``BaseException`` inside the skill's
frame, which unwinds it. This stops Python-level loops; it cannot interrupt one long C call
(``time.sleep``, a blocking input call), which is why ``wait`` sleeps in short slices. A worker
thread was not used: an abandoned thread would keep pressing keys. The hook is skipped when
another tracer (a debugger, coverage) is active, and the previous tracer is restored afterwards.
"""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import replace
from types import FrameType
from typing import Any

from cradle.errors import (
    CradleError,
    EnvironmentFailure,
    RunInterrupted,
    SkillBug,
    SkillCallError,
    SkillExecutionError,
    SkillKilled,
)
from cradle.skills.calls import skill_context
from cradle.skills.context import SkillContext
from cradle.skills.registry import SkillRegistry
from cradle.types import SkillCall

MAX_MESSAGE_CHARS = 10_000
"""A bound on what an exception can put in memory; the runner shortens further after
redacting secrets, so a secret is never cut in half before redaction."""


class _SkillTimeout(BaseException):
    """Raised inside a skill's frame by the tracer when the deadline has passed."""


def execute(
    call: SkillCall, registry: SkillRegistry, ctx: SkillContext, *, timeout: float = 30.0
) -> Any:
    """Run ``call`` with ``ctx`` injected; returns the skill's result.

    Raises ``ActionRejected`` (unknown skill, bad arguments), ``SkillExecutionError`` (the skill
    refused, a model-written skill failed, or it ran longer than ``timeout`` seconds),
    ``SkillBug`` (a trusted skill's own fault), or lets ``EnvironmentFailure`` /
    ``RunInterrupted`` through.
    """
    target = registry.require(call.skill)
    args, kwargs = target.validate(call.args, call.kwargs)
    watched = registry.source_files()
    deadline = min(ctx.deadline, time.monotonic() + max(0.0, timeout))
    ctx = replace(ctx, deadline=deadline, skills=registry)
    timed_out = False

    def check(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal timed_out
        if time.monotonic() > deadline:
            timed_out = True
            raise _SkillTimeout
        return check

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename in watched:
            return check(frame, event, arg)
        return None

    previous = sys.gettrace()
    use_tracer = previous is None
    with skill_context(ctx):
        if use_tracer:
            sys.settrace(on_call)
        try:
            result = target.func(ctx, *args, **kwargs)
        except _SkillTimeout:
            timed_out = True
        except (EnvironmentFailure, RunInterrupted, SkillKilled):
            raise
        except Exception as exc:  # noqa: BLE001 - sorted into feedback or a bug just below
            if timed_out:
                raise _timeout_error(target.name, timeout) from None
            if target.generated or _deliberate(exc):
                raise SkillExecutionError(f"{target.name}: {_message(exc)}") from None
            raise _bug(target.name, exc) from None
        finally:
            if use_tracer:
                sys.settrace(previous)
    if timed_out:
        raise _timeout_error(target.name, timeout)
    return result


def _deliberate(exc: Exception) -> bool:
    """Whether a trusted skill's exception is feedback for the model: raised on purpose (by
    it, a skill it called, or the guard refusing a call), not a call to another skill that it
    got wrong (``SkillCallError``: a name, a function or arguments that cannot work)."""
    return isinstance(exc, CradleError) and not isinstance(exc, SkillCallError)


def _timeout_error(name: str, timeout: float) -> SkillExecutionError:
    return SkillExecutionError(f"{name}: stopped after the time limit of {timeout:g} s")


def _bug(name: str, exc: Exception) -> SkillBug:
    """A trusted skill's own exception: the model reads that the skill broke; its author gets
    the traceback from the skill's frame down (the executor's frame says nothing)."""
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return SkillBug(
        f"{name}: the skill failed from a fault of its own ({type(exc).__name__}), not because "
        "of this call; it was recorded for its author - reach the goal another way",
        traceback=text,  # bounded by the runner, after redaction
    )


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    if not isinstance(exc, CradleError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    text = text or type(exc).__name__
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 3] + "..."
    return text
