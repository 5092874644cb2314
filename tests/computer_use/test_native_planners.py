"""The computer-use API planners: replies read into skill calls, bad replies refused in one
line, the conversation (ids, screenshots, history bound, safety checks), through the real SDKs
against the fakes of tests/fakes."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from cradle.computer_use.anthropic_planner import AnthropicComputerPlanner, parse_message
from cradle.computer_use.base import PlanInput
from cradle.computer_use.keys import native_chord, native_key
from cradle.computer_use.native import SafetyCheckDeclined, build_plan
from cradle.computer_use.openai_planner import OpenAIComputerPlanner, parse_response
from cradle.errors import ModelReplyError
from cradle.types import ActionOutcome, SkillCall
from tests.fakes import anthropic_server as claude
from tests.fakes import responses_server as operator
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.responses_server import FakeResponsesServer

SIZE = (640, 480)


def _claude(*inputs: dict[str, Any], stop: str = "tool_use") -> dict[str, Any]:
    blocks = [
        {"type": "tool_use", "id": f"t{n}", "name": "computer", "input": value}
        for n, value in enumerate(inputs)
    ]
    return {"content": blocks, "stop_reason": stop}


def _plan(reply: dict[str, Any], parse=parse_message) -> list[str]:
    return build_plan(parse(reply, SIZE))[0].actions


@pytest.mark.parametrize(
    ("value", "calls"),
    [
        ({"action": "left_click", "coordinate": [10, 20]}, ["click(x=10, y=20)"]),
        ({"action": "right_click", "coordinate": [10, 20]}, ["right_click(x=10, y=20)"]),
        ({"action": "middle_click", "coordinate": [1, 2]}, ["middle_click(x=1, y=2)"]),
        ({"action": "double_click", "coordinate": [1, 2]}, ["double_click(x=1, y=2)"]),
        ({"action": "triple_click", "coordinate": [1, 2]}, ["triple_click(x=1, y=2)"]),
        ({"action": "mouse_move", "coordinate": [5, 6]}, ["move_to(x=5, y=6)"]),
        (
            {"action": "left_click_drag", "start_coordinate": [1, 2], "coordinate": [30, 40]},
            ["drag(x1=1, y1=2, x2=30, y2=40)"],
        ),
        ({"action": "left_mouse_down"}, ["mouse_down()"]),
        ({"action": "left_mouse_up", "coordinate": [3, 4]}, ["mouse_up(x=3, y=4)"]),
        (
            {
                "action": "scroll",
                "coordinate": [9, 9],
                "scroll_direction": "down",
                "scroll_amount": 3,
            },
            ["scroll(amount=-3, x=9, y=9)"],
        ),
        (
            {
                "action": "scroll",
                "coordinate": [9, 9],
                "scroll_direction": "left",
                "scroll_amount": 2,
            },
            ["hscroll(amount=-2, x=9, y=9)"],
        ),
        ({"action": "type", "text": "hi"}, ["type_text(text='hi')"]),
        ({"action": "key", "text": "Return"}, ["press_key(key='enter')"]),
        ({"action": "key", "text": "ctrl+shift+t"}, ["hotkey('ctrl', 'shift', 't')"]),
        (
            {"action": "key", "text": "ctrl+a ctrl+c"},
            ["hotkey('ctrl', 'a')", "hotkey('ctrl', 'c')"],
        ),
        (
            {"action": "hold_key", "text": "shift", "duration": 2},
            ["hold_key(keys=['shift'], seconds=2.0)"],
        ),
        ({"action": "wait", "duration": 1.5}, ["wait(seconds=1.5)"]),
        ({"action": "screenshot"}, []),
        ({"action": "cursor_position"}, []),
    ],
)
def test_claude_actions_become_skill_calls(value: dict, calls: list[str]) -> None:
    assert _plan(_claude(value)) == calls


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (_claude({"action": "teleport"}), "unknown computer action 'teleport'"),
        (_claude({"action": "left_click", "coordinate": [700, 10]}), "outside the 640x480"),
        (_claude({"action": "left_click", "coordinate": [1]}), "malformed coordinate"),
        (_claude({"action": "left_click", "coordinate": ["a", "b"]}), "malformed coordinate"),
        (_claude({"action": "left_click", "coordinate": [1, 2], "text": "shift"}), "held keys"),
        (
            _claude({"action": "scroll", "coordinate": [1, 2], "scroll_direction": "in"}),
            "scroll_direction",
        ),
        (
            {
                "content": [{"type": "tool_use", "name": "computer", "input": {}}],
                "stop_reason": "tool_use",
            },
            "has no id",
        ),
        (
            {
                "content": [{"type": "tool_use", "id": "x", "name": "bash", "input": {}}],
                "stop_reason": "tool_use",
            },
            "unknown tool 'bash'",
        ),
        (
            {"content": [{"type": "text", "text": "I will not."}], "stop_reason": "refusal"},
            "refused: I will not.",
        ),
        ({"content": [], "stop_reason": "max_tokens"}, "cut off"),
    ],
)
def test_bad_claude_replies_are_one_line_errors(reply: dict, message: str) -> None:
    with pytest.raises(ModelReplyError, match=message) as err:
        _plan(reply)
    assert "\n" not in str(err.value)


def test_a_reply_without_tool_use_is_done() -> None:
    plan = build_plan(
        parse_message(
            {"content": [{"type": "text", "text": "All set."}], "stop_reason": "end_turn"}, SIZE
        )
    )[0]
    assert plan.done and plan.actions == [] and plan.reasoning == "All set."


def _call(action: dict, call_id: str | None = "c1", **extra: Any) -> dict[str, Any]:
    item = {"type": "computer_call", "action": action, **extra}
    if call_id:
        item["call_id"] = call_id
    return {"output": [item], "status": "completed"}


@pytest.mark.parametrize(
    ("action", "calls"),
    [
        ({"type": "click", "button": "left", "x": 3, "y": 4}, ["click(x=3, y=4)"]),
        ({"type": "click", "button": "right", "x": 3, "y": 4}, ["right_click(x=3, y=4)"]),
        ({"type": "click", "button": "wheel", "x": 3, "y": 4}, ["middle_click(x=3, y=4)"]),
        ({"type": "click", "button": "back", "x": 3, "y": 4}, ["press_key(key='browserback')"]),
        ({"type": "double_click", "x": 3, "y": 4}, ["double_click(x=3, y=4)"]),
        (
            {"type": "drag", "path": [{"x": 1, "y": 1}, {"x": 5, "y": 5}, {"x": 9, "y": 8}]},
            ["drag(x1=1, y1=1, x2=9, y2=8)"],
        ),
        ({"type": "keypress", "keys": ["CTRL", "A"]}, ["hotkey('ctrl', 'a')"]),
        ({"type": "keypress", "keys": ["ENTER"]}, ["press_key(key='enter')"]),
        ({"type": "keypress", "keys": ["ArrowLeft"]}, ["press_key(key='left')"]),
        ({"type": "move", "x": 3, "y": 4}, ["move_to(x=3, y=4)"]),
        (
            {"type": "scroll", "x": 3, "y": 4, "scroll_x": 0, "scroll_y": 300},
            ["scroll(amount=-3, x=3, y=4)"],
        ),
        (
            {"type": "scroll", "x": 3, "y": 4, "scroll_x": -40, "scroll_y": 0},
            ["hscroll(amount=-1, x=3, y=4)"],
        ),
        ({"type": "type", "text": "hi"}, ["type_text(text='hi')"]),
        ({"type": "wait"}, ["wait(seconds=2.0)"]),
        ({"type": "screenshot"}, []),
    ],
)
def test_openai_actions_become_skill_calls(action: dict, calls: list[str]) -> None:
    assert _plan(_call(action), parse_response) == calls


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (_call({"type": "teleport"}), "unknown computer action 'teleport'"),
        (_call({"type": "click", "x": 3, "y": 4}, call_id=None), "no call_id"),
        (_call({"type": "click", "button": "left", "x": 3}), "malformed coordinate"),
        (_call({"type": "click", "button": "left", "x": 3, "y": 900}), "outside"),
        (
            _call({"type": "click", "button": "left", "x": 3, "y": 4, "keys": ["SHIFT"]}),
            "held keys",
        ),
        (
            {"output": [{"type": "message", "content": [{"type": "refusal", "refusal": "No."}]}]},
            "refused: No.",
        ),
        (
            {"output": [{"type": "function_call", "name": "shell", "call_id": "f"}]},
            "unknown tool 'shell'",
        ),
        (
            {
                "output": [],
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
            },
            "incomplete",
        ),
    ],
)
def test_bad_openai_replies_are_one_line_errors(reply: dict, message: str) -> None:
    with pytest.raises(ModelReplyError, match=message):
        _plan(reply, parse_response)


def test_native_key_names() -> None:
    assert [native_key(k) for k in ("Return", "Page_Down", "KP_0", "ESCAPE", "super", "A")] == [
        "enter",
        "pagedown",
        "num0",
        "esc",
        "winleft",
        "A",
    ]
    assert native_chord("ctrl++") == ("ctrl", "+") and native_chord("alt+Tab") == ("alt", "tab")


# ---------------------------------------------------------------------- the conversation


def _given(step: int, previous: tuple[ActionOutcome, ...] = (), size=SIZE) -> PlanInput:
    return PlanInput(
        task="do it", step=step, image=Image.new("RGB", size, "white"), previous=previous
    )


def _ok(source: str) -> ActionOutcome:
    return ActionOutcome(source=source, status="ok", call=SkillCall(skill="click"))


def test_claude_history_keeps_the_last_screenshots_and_answers_every_id() -> None:
    def handler(body: dict):
        return claude.message(
            [claude.tool_use("computer", {"action": "screenshot"})], stop_reason="tool_use"
        )

    with FakeAnthropicServer(handler) as server:
        planner = AnthropicComputerPlanner(
            model="m", base_url=server.base_url, keep_images=2, max_turns=3, client=None
        )
        for step in range(1, 7):
            out = planner.plan(_given(step))
            assert out.plan.actions == [] and out.calls[0].input_tokens == 100
        planner.close()
    assert len(server.requests) == 6  # the fake refuses unmatched tool_result ids with 400
    last = server.requests[-1]["messages"]
    assert len(last) == 2 * 3 + 1
    images = sum(str(m["content"]).count("'type': 'image'") for m in last)
    assert images == 2 and "omitted" in str(last[0]["content"])
    assert all(h["anthropic-beta"] == "computer-use-2025-01-24" for h in server.headers)


def test_claude_failed_actions_come_back_as_error_results() -> None:
    def handler(body: dict):
        return claude.message(
            [claude.tool_use("computer", {"action": "left_click", "coordinate": [5, 5]})],
            stop_reason="tool_use",
        )

    with FakeAnthropicServer(handler) as server:
        planner = AnthropicComputerPlanner(model="m", base_url=server.base_url)
        first = planner.plan(_given(1))
        failed = ActionOutcome(source=first.plan.actions[0], status="failed", error="boom")
        planner.plan(_given(2, (failed,)))
    result = server.requests[1]["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert "boom" in result["content"][0]["text"] and result["content"][1]["type"] == "image"


def _safety_handler(body: dict):
    checks = (
        []
        if body.get("previous_response_id")
        else [{"id": "sc1", "code": "sensitive_domain", "message": "A bank."}]
    )
    return operator.response(
        [
            {
                "type": "computer_call",
                "id": "cu",
                "call_id": "c1",
                "action": {"type": "screenshot"},
                "status": "completed",
                "pending_safety_checks": checks,
            }
        ]
    )


def test_openai_safety_check_acknowledged_only_when_agreed() -> None:
    asked: list[str] = []
    with FakeResponsesServer(_safety_handler) as server:
        planner = OpenAIComputerPlanner(
            model="m", base_url=server.base_url, safety_gate=lambda q: asked.append(q) or True
        )
        planner.plan(_given(1))
        planner.plan(_given(2))
        planner.plan(_given(3))
    assert len(asked) == 1 and "A bank." in asked[0]
    second, third = server.requests[1]["input"][0], server.requests[2]["input"][0]
    assert second["acknowledged_safety_checks"] == [
        {"id": "sc1", "code": "sensitive_domain", "message": "A bank."}
    ]
    assert "acknowledged_safety_checks" not in third
    ids = [r.get("previous_response_id") for r in server.requests]
    assert ids[0] is None and ids[1].startswith("resp_") and ids[2] not in (None, ids[1])


def test_openai_declined_safety_check_runs_nothing() -> None:
    with FakeResponsesServer(_safety_handler) as server:
        planner = OpenAIComputerPlanner(
            model="m", base_url=server.base_url, safety_gate=lambda q: False
        )
        with pytest.raises(SafetyCheckDeclined, match="sensitive_domain") as err:
            planner.plan(_given(1))
        assert err.value.calls and "not confirmed" in err.value.calls[0].error
        planner.plan(_given(2))
    output = server.requests[1]["input"][0]
    assert "acknowledged_safety_checks" not in output
    assert "not run" in server.requests[1]["input"][1]["content"][0]["text"]


def test_transport_failure_is_recorded_and_the_conversation_kept() -> None:
    from cradle.errors import ModelUnavailableError

    replies = [claude.error(400, "invalid_request_error", "nope")]
    with FakeAnthropicServer(replies=replies) as server:
        planner = AnthropicComputerPlanner(model="m", base_url=server.base_url, max_retries=0)
        with pytest.raises(ModelUnavailableError) as err:
            planner.plan(_given(1))
    assert err.value.calls[0].request_failed and err.value.calls[0].prompt.startswith("[system]")
    assert planner.messages == []


def test_a_call_of_an_unknown_tool_is_not_sent_back_and_the_model_is_told() -> None:
    replies = [
        claude.message([claude.tool_use("bash", {"command": "ls"})], stop_reason="tool_use"),
        claude.message([{"type": "text", "text": "Done."}]),
    ]
    with FakeAnthropicServer(replies=replies) as server:
        planner = AnthropicComputerPlanner(model="m", base_url=server.base_url)
        with pytest.raises(ModelReplyError, match="unknown tool 'bash'") as err:
            planner.plan(_given(1))
        assert err.value.calls[0].error and err.value.calls[0].reply
        assert planner.plan(_given(2)).plan.done
    second = server.requests[1]["messages"]
    assert "bash" not in str(second[1]) and "tool_result" not in str(second[2])
    assert "could not be used" in str(second[2]) and "unknown tool 'bash'" in str(second[2])
