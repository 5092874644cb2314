"""The deciders (``cradle.decide``): the model in both modes, and the idle repeat of a wait."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cradle.decide import IdleRepeat, can_repeat, decide
from cradle.llm.scripted import ScriptedModel
from cradle.progress import SilentProgress
from cradle.prompts import PromptLibrary
from cradle.types import (
    ActionOutcome,
    ActionPlan,
    InformationGathering,
    ModelCall,
    Observation,
    SelfReflection,
    SkillCall,
    SkillCuration,
    StepRecord,
    TaskInference,
    utc_now,
)
from tests.modules.test_modules import CURATION, INFO, PLAN, PREVIOUS, REFLECTION, TASK, _ctx
from tests.test_agent import fused_reply, run_fused


@pytest.mark.parametrize("mode", ["modular", "fused"])
def test_both_modes_fill_every_module_output(mode):
    if mode == "modular":
        model = ScriptedModel([INFO, REFLECTION, TASK, CURATION, PLAN])
    else:
        model = ScriptedModel(
            [
                {
                    "information_gathering": INFO,
                    "self_reflection": REFLECTION,
                    "task_inference": TASK,
                    "skill_curation": CURATION,
                    "action_planning": PLAN,
                }
            ]
        )
    calls = []
    ctx = decide(mode, _ctx(previous=PREVIOUS), model, PromptLibrary(), calls, SilentProgress())
    assert ctx.information_gathering == InformationGathering(**INFO)
    assert ctx.self_reflection == SelfReflection(**REFLECTION)
    assert ctx.task_inference == TaskInference(**TASK)
    assert ctx.skill_curation == SkillCuration(**CURATION)
    assert ctx.action_planning == ActionPlan(**PLAN)
    assert len(calls) == (5 if mode == "modular" else 1)
    assert model.remaining() == 0


def _last_step(plan: list[str], statuses: list[str], **fields: Any) -> StepRecord:
    """A decided step that planned ``plan``, whose actions ended with ``statuses``."""
    observation = Observation(
        step=1,
        screenshot="screenshots/step-0001.png",
        screen_size=(200, 100),
        image_size=(200, 100),
    )
    outcomes = [
        ActionOutcome(source=source, call=SkillCall(skill=source.split("(")[0]), status=status)
        for source, status in zip(plan, statuses, strict=True)
    ]
    call = ModelCall(module="fused", model="scripted", response_mode="scripted", prompt="")
    return StepRecord(
        run_id="run",
        step=1,
        mode="fused",
        started_at=utc_now(),
        ended_at=utc_now(),
        observation=observation,
        task_inference=TaskInference(subtask="wait", reasoning=""),
        action_planning=ActionPlan(reasoning="", actions=plan, done=False),
        actions=outcomes,
        **{"model_calls": [call], **fields},
    )


def test_idle_repeat_reruns_a_wait_at_most_its_limit_in_a_row() -> None:
    idle, last = IdleRepeat(limit=2), _last_step(["wait(seconds=1)"], ["ok"])
    ctx = _ctx(changed=False)
    repeated = idle.decide(ctx, last, [])
    assert repeated is not None
    assert repeated.action_planning == last.action_planning
    assert repeated.task_inference == last.task_inference
    assert idle.decide(ctx, last, []) is not None
    assert idle.decide(ctx, last, []) is None  # the limit: the model is asked
    assert idle.decide(ctx, last, []) is not None  # a new streak after the model was asked
    assert IdleRepeat(limit=0).decide(ctx, last, []) is None
    assert IdleRepeat(limit=2).decide(ctx, None, []) is None  # nothing decided yet


@pytest.mark.parametrize(
    ("last", "changed", "errors"),
    [
        (_last_step(["wait(seconds=1)"], ["ok"]), True, []),  # the screen changed
        (_last_step(["wait(seconds=1)"], ["ok"]), False, ["skill file: bad"]),  # news
        (_last_step(["type_text(text='a')"], ["ok"]), False, []),  # not a wait
        (_last_step(["wait(seconds=-1)"], ["failed"]), False, []),  # the wait failed
        (_last_step([], []), False, []),  # an empty plan is not a decision to wait
        (_last_step(["wait(seconds=1)"], ["ok"], errors=["x"]), False, []),
        (_last_step(["wait(seconds=1)"], ["ok"], new_skills=[{"name": "s"}]), False, []),
        (_last_step(["wait(seconds=1)"], ["ok"], model_calls=[]), False, []),  # not decided
    ],
)
def test_idle_repeat_asks_the_model_when_it_could_learn_something(
    last: StepRecord, changed: bool, errors: list[str]
) -> None:
    assert not can_repeat(_ctx(changed=changed), last, errors)


def test_an_unchanged_screen_after_a_wait_repeats_the_wait_without_the_model(
    tmp_path: Path,
) -> None:
    model, steps = run_fused(
        tmp_path,
        [fused_reply(["wait(seconds=0.01)"]), fused_reply([], done=True)],
        idle_skips=2,
    )
    assert len(model.requests) == 2
    assert [s.model_skipped for s in steps] == [False, True, True, False]
    for idle in steps[1:3]:
        assert idle.model_calls == [] and not idle.observation.changed
        assert [a.source for a in idle.actions] == ["wait(seconds=0.01)"]
        assert [a.status for a in idle.actions] == ["ok"]
    assert steps[-1].done


def test_an_empty_plan_is_not_a_wait_and_the_model_is_asked_again(tmp_path: Path) -> None:
    model, steps = run_fused(tmp_path, [fused_reply([]), fused_reply([], done=True)])
    assert len(model.requests) == 2
    assert not any(s.model_skipped for s in steps)


@pytest.mark.parametrize(
    "first",
    [
        ["type_text(text='a')"],  # an action that is not a wait: its effect must be judged
        ["wait(seconds=-1)"],  # the wait failed
        ["wait(seconds=0.01)", "bogus()"],  # part of the plan was rejected
    ],
)
def test_no_idle_step_unless_the_last_step_was_a_successful_wait(
    tmp_path: Path, first: list[str]
) -> None:
    model, steps = run_fused(tmp_path, [fused_reply(first), fused_reply([], done=True)])
    assert len(model.requests) == 2
    assert not any(s.model_skipped for s in steps)


def test_idle_steps_can_be_turned_off(tmp_path: Path) -> None:
    model, steps = run_fused(
        tmp_path,
        [fused_reply(["wait(seconds=0.01)"]), fused_reply([], done=True)],
        idle_skips=0,
    )
    assert len(model.requests) == 2 and len(steps) == 2
