"""ReplayedModel: recorded replies in order, loud failure when the loop asks something else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cradle.errors import ModelReplyError, ScriptExhaustedError
from cradle.llm.base import ModelRequest
from cradle.llm.replayed import ReplayedModel, ReplayMismatchError, group_requests
from cradle.types import ActionPlan, ModelCall, Observation, StepRecord, TaskInference

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PLAN = '{"reasoning": "r", "actions": ["click(x=1, y=2)"], "done": false}'
INFER = '{"subtask": "s", "reasoning": "r"}'


def _step(n: int, calls: list[ModelCall]) -> StepRecord:
    return StepRecord(
        run_id="r",
        step=n,
        mode="modular",
        started_at=NOW,
        ended_at=NOW,
        observation=Observation(step=n, screenshot="", screen_size=(10, 10), image_size=(10, 10)),
        model_calls=calls,
    )


def _call(module: str, reply: str, error: str = "", repair: bool = False) -> ModelCall:
    prompt = "[system]\ns\n[user]\nu" + ("\n[repair]\nfix it" if repair else "")
    return ModelCall(
        module=module,
        model="m",
        response_mode="json_schema",
        prompt=prompt,
        reply=reply,
        error=error,
    )


def _request(module: str, output) -> ModelRequest:
    return ModelRequest(module=module, system="s", user="u", output_model=output)


def test_replies_in_order_validated_against_the_request() -> None:
    model = ReplayedModel(
        [
            _step(1, [_call("task_inference", INFER), _call("action_planning", PLAN)]),
            _step(2, [_call("task_inference", INFER)]),
        ],
        name="replayed:m",
    )
    reply = model.complete(_request("task_inference", TaskInference))
    assert isinstance(reply.output, TaskInference) and reply.calls[0].model == "replayed:m"
    plan = model.complete(_request("action_planning", ActionPlan)).output
    assert plan.actions == ["click(x=1, y=2)"]
    assert model.remaining() == 1 and model.prompt_changes == []


def test_repairs_are_grouped_with_their_request() -> None:
    steps = [
        _step(
            1,
            [
                _call("action_planning", "junk", error="not JSON"),
                _call("action_planning", PLAN, repair=True),
            ],
        )
    ]
    assert len(group_requests(steps)) == 1
    reply = ReplayedModel(steps).complete(_request("action_planning", ActionPlan))
    assert reply.output.done is False and len(reply.calls) == 2


def test_requests_that_failed_before_any_reply_are_not_replayed() -> None:
    refused = _call("action_planning", "", error="the server refused json_schema (500)")
    refused = refused.model_copy(update={"request_failed": True})
    steps = [_step(1, [refused, _call("action_planning", PLAN)])]
    (request,) = group_requests(steps)
    assert request.answer is not None and not request.answer.error
    assert ReplayedModel(steps).complete(_request("action_planning", ActionPlan)).output.actions


def test_same_module_in_two_steps_stays_two_requests() -> None:
    steps = [_step(1, [_call("fused", "junk", error="bad")]), _step(2, [_call("fused", PLAN)])]
    assert len(group_requests(steps)) == 2


def test_a_recorded_unusable_reply_is_replayed_as_an_error() -> None:
    model = ReplayedModel([_step(1, [_call("action_planning", "junk", error="not JSON")])])
    with pytest.raises(ModelReplyError, match="not JSON") as err:
        model.complete(_request("action_planning", ActionPlan))
    assert err.value.calls and err.value.calls[0].error == "not JSON"


def test_another_module_than_recorded_fails_loudly() -> None:
    model = ReplayedModel([_step(1, [_call("task_inference", INFER)])])
    with pytest.raises(ReplayMismatchError, match="asked 'action_planning'.*'task_inference'"):
        model.complete(_request("action_planning", ActionPlan))


def test_a_reply_that_no_longer_fits_fails_loudly() -> None:
    model = ReplayedModel([_step(1, [_call("action_planning", INFER)])])
    with pytest.raises(ReplayMismatchError, match="no longer fits ActionPlan"):
        model.complete(_request("action_planning", ActionPlan))


def test_more_requests_than_recorded() -> None:
    model = ReplayedModel([])
    with pytest.raises(ScriptExhaustedError, match="no reply left"):
        model.complete(_request("action_planning", ActionPlan))


def test_changed_prompts_are_noted() -> None:
    model = ReplayedModel([_step(1, [_call("task_inference", INFER)])])
    request = ModelRequest(
        module="task_inference", system="other", user="u", output_model=TaskInference
    )
    model.complete(request)
    assert model.prompt_changes == [(0, "task_inference")]
