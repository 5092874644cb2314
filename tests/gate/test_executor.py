"""execute: context injection, coordinate mapping, error conversion, time limit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cradle.errors import (
    ActionRejected,
    EnvironmentFailure,
    SkillBug,
    SkillExecutionError,
)
from cradle.gate.executor import execute
from cradle.skills import SkillRegistry, current_context, load_untrusted, parse_action
from cradle.types import SkillCall


def run(source: str, registry: SkillRegistry, ctx, **kw):
    return execute(parse_action(source, registry), registry, ctx, **kw)


def test_click_maps_downscaled_coordinates(registry, ctx, screen) -> None:
    run("click(x=10, y=20)", registry, ctx)
    # The model saw a 2x downscaled image: (10, 20) lands on (20, 40) on the screen.
    assert screen.calls == [("click", 20, 40, "left", 1)]
    assert ctx.clicks == [(10, 20)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("double_click(1, 2)", ("click", 2, 4, "left", 2)),
        ("right_click(1, 2)", ("click", 2, 4, "right", 1)),
        ("move_to(50, 25)", ("move", 100, 50)),
        ("drag(0, 0, 100, 50)", ("drag", 0, 0, 200, 100)),
        ("scroll(-3)", ("scroll", -3, None, None)),
        ("scroll(2, x=10, y=10)", ("scroll", 2, 20, 20)),
        ("type_text('hello')", ("type_text", "hello")),
        ("press_key('Return')", ("press", "enter")),
        ("press_key('F5')", ("press", "f5")),
        ("hotkey('Control', 's')", ("hotkey", "ctrl", "s")),
    ],
)
def test_common_skills_reach_the_screen(source, expected, registry, ctx, screen) -> None:
    run(source, registry, ctx)
    assert screen.calls == [expected]


def test_wait(registry, ctx) -> None:
    start = time.monotonic()
    run("wait(0.05)", registry, ctx)
    assert time.monotonic() - start >= 0.04
    with pytest.raises(SkillExecutionError, match="wait: seconds must be between 0 and 20"):
        run("wait(-1)", registry, ctx)


def test_unknown_key_lists_close_matches(registry, ctx, screen) -> None:
    with pytest.raises(SkillExecutionError) as info:
        run("press_key('entr')", registry, ctx)
    assert str(info.value).startswith("press_key: unknown key 'entr'; did you mean 'enter'")
    with pytest.raises(SkillExecutionError, match="hotkey: unknown key 'ctlr'"):
        run("hotkey('ctlr', 'c')", registry, ctx)
    with pytest.raises(SkillExecutionError, match="at least one key"):
        run("hotkey()", registry, ctx)
    assert screen.calls == []


def test_point_outside_the_image(registry, ctx) -> None:
    with pytest.raises(SkillExecutionError, match=r"click: point \(500, 5\) is outside"):
        run("click(500, 5)", registry, ctx)


BOOM = '''
from cradle.errors import EnvironmentFailure, SkillExecutionError, SkillFeedback
from cradle.skills import skill


@skill
def boom(screen, kind: str) -> None:
    """Fail.

    Args:
        kind: How.
    """
    if kind == "env":
        raise EnvironmentFailure("display gone")
    if kind == "feedback":
        raise SkillFeedback("no such button; pick one from the list")
    if kind == "old":
        raise SkillExecutionError("seconds must be between 0 and 60")
    raise ValueError("bad thing\\nTraceback (most recent call last): nope" if kind == "x" else "")
'''


def test_a_skills_deliberate_feedback_goes_to_the_model(tmp_path: Path, ctx) -> None:
    (tmp_path / "boom.py").write_text(BOOM, encoding="utf-8")
    registry = SkillRegistry.load([tmp_path])
    with pytest.raises(SkillExecutionError) as info:
        run("boom('feedback')", registry, ctx)
    assert str(info.value) == "boom: no such button; pick one from the list"
    assert not isinstance(info.value, SkillBug)
    with pytest.raises(SkillExecutionError, match="^boom: seconds must be between 0 and 60$"):
        run("boom('old')", registry, ctx)  # the name skills raised before SkillFeedback
    with pytest.raises(EnvironmentFailure):
        run("boom('env')", registry, ctx)


def test_a_trusted_skills_own_exception_is_a_bug_with_its_traceback(tmp_path: Path, ctx) -> None:
    """Not the model's mistake: the message says so, the traceback is kept for the author."""
    (tmp_path / "boom.py").write_text(BOOM, encoding="utf-8")
    registry = SkillRegistry.load([tmp_path])
    with pytest.raises(SkillBug) as info:
        run("boom('x')", registry, ctx)
    bug = info.value
    assert not isinstance(bug, SkillExecutionError)
    assert str(bug).startswith("boom: the skill failed from a fault of its own (ValueError)")
    assert "not because of this call" in str(bug) and "bad thing" not in str(bug)
    assert bug.traceback.startswith("Traceback (most recent call last):")
    assert str(tmp_path / "boom.py") in bug.traceback and "executor.py" not in bug.traceback
    assert bug.traceback.rstrip().endswith("nope") and "ValueError: bad thing" in bug.traceback
    with pytest.raises(SkillBug, match=r"^boom: .*\(ValueError\)"):
        run("boom('y')", registry, ctx)


def test_a_bad_argument_from_the_model_is_rejected_before_the_skill_runs(
    tmp_path: Path, ctx
) -> None:
    (tmp_path / "boom.py").write_text(BOOM, encoding="utf-8")
    registry = SkillRegistry.load([tmp_path])
    with pytest.raises(ActionRejected):
        execute(SkillCall(skill="boom", args=[["x"]]), registry, ctx)
    with pytest.raises(ActionRejected, match="unexpected|unknown|how"):
        execute(SkillCall(skill="boom", kwargs={"kind": "x", "how": "x"}), registry, ctx)


def test_execute_revalidates_calls(registry, ctx) -> None:
    with pytest.raises(ActionRejected, match="unknown skill"):
        execute(SkillCall(skill="nope"), registry, ctx)
    with pytest.raises(ActionRejected, match="signature"):
        execute(SkillCall(skill="click", args=["a", 1]), registry, ctx)


def test_context_var_is_set_only_while_running(tmp_path: Path, ctx) -> None:
    (tmp_path / "peek.py").write_text(
        '''
from cradle.skills import current_context, skill


@skill
def peek(screen) -> bool:
    """Check the context."""
    return current_context() is screen
''',
        encoding="utf-8",
    )
    registry = SkillRegistry.load([tmp_path])
    assert run("peek()", registry, ctx) is True
    with pytest.raises(SkillExecutionError):
        current_context()


RUNAWAY = '''
from cradle.skills import skill


@skill
def spin(screen, n: int) -> int:
    """Count for a long time.

    Args:
        n: Loop size.
    """
    total = 0
    for i in range(n):
        for j in range(n):
            for k in range(n):
                total += 1
    return total
'''


def test_timeout_stops_a_runaway_generated_skill(registry, ctx) -> None:
    load_untrusted(RUNAWAY, registry, origin={"run_id": "t"})
    assert run("spin(3)", registry, ctx) == 27
    start = time.monotonic()
    with pytest.raises(SkillExecutionError, match="spin: stopped after the time limit of 0.2 s"):
        run("spin(10000)", registry, ctx, timeout=0.2)
    assert time.monotonic() - start < 2


def test_timeout_also_stops_trusted_skills(tmp_path: Path, ctx) -> None:
    (tmp_path / "loop.py").write_text(
        '''
from cradle.skills import skill


@skill
def forever(screen) -> None:
    """Loop forever, swallowing errors."""
    while True:
        try:
            pass
        except Exception:
            pass
''',
        encoding="utf-8",
    )
    registry = SkillRegistry.load([tmp_path])
    with pytest.raises(SkillExecutionError, match="time limit"):
        run("forever()", registry, ctx, timeout=0.1)


def test_timeout_interrupts_wait(registry, ctx) -> None:
    start = time.monotonic()
    with pytest.raises(SkillExecutionError, match="wait: stopped after the time limit"):
        run("wait(5)", registry, ctx, timeout=0.1)
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("x = 2 ** 100000", "integer result too large"),
        ("x = 7\n    for i in range(100):\n        x *= x", "integer result too large"),
        ("x = 1 << 100000", "integer result too large"),
        ("x = True << 16000000000", "integer result too large"),
        ("x = (1 == 1) << 100000", "integer result too large"),
        ('x = "ab" * 1000000', "result too large"),
        ('x = "a"\n    for i in range(40):\n        x = x + x', "result too large"),
        ("x = [1, 2] * 10000000", "result too large"),
        ("x = range(10 ** 12)", "range() is limited to 10000 items"),
        ("x = round(5, -1000000)", "ndigits is limited"),
        ('x = "%s" % 5', "string % formatting is not allowed"),
        ('x = int("1" * 10000)', "ValueError"),
    ],
)
def test_sandbox_guards(body: str, reason: str, registry, ctx) -> None:
    source = (
        "from cradle.skills import skill\n\n\n@skill\ndef greedy(screen) -> None:\n"
        f'    """Use resources."""\n    {body}\n'
    )
    load_untrusted(source, registry, origin={})
    start = time.monotonic()
    with pytest.raises(SkillExecutionError) as info:
        run("greedy()", registry, ctx, timeout=5)
    assert reason in str(info.value)
    assert time.monotonic() - start < 2


def test_generated_mutual_recursion_is_bounded(registry, ctx) -> None:
    source = '''
from cradle.skills import skill


@skill
def ping(screen, n: int) -> int:
    """Ping.

    Args:
        n: Count.
    """
    return pong(n + 1)


@skill
def pong(screen, n: int) -> int:
    """Pong.

    Args:
        n: Count.
    """
    return ping(n + 1)
'''
    load_untrusted(source, registry, origin={})
    with pytest.raises(SkillExecutionError, match="more than 16 deep"):
        run("ping(0)", registry, ctx)
