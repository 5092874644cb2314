"""ActionRunner: one outcome per action; whose fault a failure is decides what the model reads."""

from __future__ import annotations

from pathlib import Path

from cradle.gate.runner import ActionRunner
from cradle.gate.secrets import SecretStore
from cradle.paths import shared_skills_dir
from cradle.screen.mapping import CoordinateMap
from cradle.skills import SkillRegistry
from tests.skills.conftest import FakeScreen

SECRET = "purple tulips 42"

SKILLS = '''
from cradle.errors import SkillFeedback
from cradle.skills import skill


@skill
def buggy(screen, text: str) -> None:
    """A trusted skill with a bug in its body.

    Args:
        text: What to type.
    """
    screen.type_text(text)
    return text.no_such_method()


@skill
def picky(screen, name: str) -> None:
    """A trusted skill that refuses on purpose.

    Args:
        name: A button.
    """
    raise SkillFeedback(f"no button {name!r} on screen; pick one from the element list")
'''


def _runner(tmp_path: Path) -> tuple[ActionRunner, FakeScreen]:
    (tmp_path / "extra.py").write_text(SKILLS, encoding="utf-8")
    registry = SkillRegistry.load([shared_skills_dir(), tmp_path])
    assert registry.problems == []
    screen = FakeScreen()
    runner = ActionRunner(
        registry=registry,
        screen=screen,
        generated_dir=None,
        run_id="r",
        secrets=SecretStore({"PASSWORD": SECRET}),
    )
    return runner, screen


def _run(runner: ActionRunner, *actions: str):
    return runner.run(actions, mapping=CoordinateMap((400, 200), runner.screen.geometry), timeout=5)


def test_a_trusted_skills_bug_is_recorded_with_its_traceback_not_blamed_on_the_model(
    tmp_path: Path,
) -> None:
    runner, screen = _runner(tmp_path)
    bug, after = _run(runner, "buggy(text='{secret:PASSWORD}')", "press('enter')")
    assert bug.status == "failed"
    assert "fault of its own (AttributeError)" in bug.error
    assert "not because of this call" in bug.error and "no_such_method" not in bug.error
    assert "Traceback (most recent call last)" in bug.traceback
    assert "text.no_such_method()" in bug.traceback and "AttributeError" in bug.traceback
    assert SECRET not in bug.traceback + bug.error  # the skill typed it; the record does not
    assert ("type_text", SECRET) in screen.calls
    # the screen is not as the plan assumed: the rest of the step waits for the model
    assert after.status == "skipped"


def test_a_skills_feedback_reaches_the_model_as_the_reason(tmp_path: Path) -> None:
    runner, _ = _runner(tmp_path)
    (refused,) = _run(runner, "picky(name='OK')")
    assert refused.status == "failed"
    assert refused.error == "picky: no button 'OK' on screen; pick one from the element list"
    assert refused.traceback == ""


def test_a_bad_argument_is_the_models_mistake_and_the_next_action_runs(tmp_path: Path) -> None:
    runner, screen = _runner(tmp_path)
    bad, unknown, typed = _run(
        runner, "buggy(text=['a'])", "picky(name='OK', colour='red')", "type_text(text='hi')"
    )
    assert bad.status == unknown.status == "rejected"
    assert "is not str" in bad.error and bad.traceback == "" and unknown.traceback == ""
    assert typed.status == "ok" and ("type_text", "hi") in screen.calls
