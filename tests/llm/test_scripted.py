"""The scripted model double: order, per-module queues, validation, loud exhaustion."""

import pytest

from cradle.errors import ModelReplyError, ScriptExhaustedError
from cradle.llm.base import ModelRequest
from cradle.llm.scripted import ScriptedModel
from cradle.types import ActionPlan, TaskInference


def _request(module: str, output_model=ActionPlan) -> ModelRequest:
    return ModelRequest(module=module, system="s", user="u", output_model=output_model)


PLAN = {"reasoning": "r", "actions": ["click(x=1, y=2)"], "done": False}


def test_replies_come_in_order_and_validate():
    model = ScriptedModel([PLAN, {**PLAN, "done": True}])
    first = model.complete(_request("action_planning"))
    second = model.complete(_request("action_planning"))
    assert isinstance(first.output, ActionPlan) and first.output.done is False
    assert second.output.done is True
    assert first.calls[0].response_mode == "scripted"


def test_exhausted_script_fails_loudly():
    model = ScriptedModel([PLAN])
    model.complete(_request("action_planning"))
    with pytest.raises(ScriptExhaustedError, match="no reply left"):
        model.complete(_request("action_planning"))


def test_per_module_queues():
    model = ScriptedModel(
        {
            "task_inference": [{"subtask": "a", "reasoning": "b"}],
            "action_planning": [PLAN],
        }
    )
    assert model.complete(_request("action_planning")).output.actions == ["click(x=1, y=2)"]
    assert model.complete(_request("task_inference", TaskInference)).output.subtask == "a"
    assert model.remaining() == 0


def test_invalid_scripted_reply_is_a_reply_error_with_the_call_recorded():
    model = ScriptedModel([{"reasoning": "r"}])
    with pytest.raises(ModelReplyError) as caught:
        model.complete(_request("action_planning"))
    assert "actions" in str(caught.value)
    assert caught.value.calls and caught.value.calls[0].error


def test_callable_reply_sees_the_request():
    model = ScriptedModel([lambda req: {**PLAN, "reasoning": req.module}])
    assert model.complete(_request("action_planning")).output.reasoning == "action_planning"
