"""The UI-TARS and Qwen-VL planners and the grounder, with the real openai client against
local fake servers: requests, records, history bounds, repair, and grounded skills."""

from __future__ import annotations

import pytest
from PIL import Image

from cradle.computer_use.base import PlanInput
from cradle.computer_use.chat import ChatEndpoint
from cradle.computer_use.coordinates import Coordinates
from cradle.computer_use.grounding import GROUNDED_SKILLS, Grounder, GroundingSettings
from cradle.computer_use.qwen import DEFAULT_COORDINATES as QWEN_DEFAULT
from cradle.computer_use.qwen import QwenPlanner
from cradle.computer_use.text_planner import UserNeeded
from cradle.computer_use.uitars import DEFAULT_COORDINATES as UITARS_DEFAULT
from cradle.computer_use.uitars import UITarsPlanner
from cradle.errors import ConfigError, ModelReplyError, ModelUnavailableError, SkillExecutionError
from cradle.types import ActionOutcome
from tests.fakes.gui_models import FakeGrounder, ScriptedGuiModel, file_menu, reply
from tests.fakes.openai_server import FakeOpenAIServer

SCREEN = (1024, 768)


def _endpoint(server: FakeOpenAIServer, **options) -> ChatEndpoint:
    return ChatEndpoint(model="gui-model", base_url=server.base_url, max_retries=0, **options)


def _given(step: int = 1, **more) -> PlanInput:
    return PlanInput(
        task="Type hi and open File", step=step, image=Image.new("RGB", SCREEN, "white"), **more
    )


@pytest.mark.parametrize(
    ("family", "planner_cls", "coordinates", "convention", "smart"),
    [
        ("uitars", UITarsPlanner, UITARS_DEFAULT, "absolute", True),
        ("uitars", UITarsPlanner, Coordinates("relative-1000"), "relative-1000", False),
        ("qwen", QwenPlanner, QWEN_DEFAULT, "absolute", True),
        ("qwen", QwenPlanner, Coordinates("normalized"), "normalized", False),
    ],
)
def test_planner_turns_a_reply_into_skill_calls_and_records_the_convention(
    family, planner_cls, coordinates, convention, smart
) -> None:
    model = ScriptedGuiModel(family, SCREEN, text="hi", convention=convention, smart=smart)
    with FakeOpenAIServer(model) as server:
        planner = planner_cls(_endpoint(server), coordinates)
        first = planner.plan(_given())
        second = planner.plan(_given(2))
        planner.close()
    assert first.plan.actions[0] == "type_text(text='hi')"
    x, y = (
        int(v)
        for v in first.plan.actions[1]
        .removeprefix("click(x=")
        .rstrip(")")
        .replace(" y=", "")
        .split(",")
    )
    assert 29 <= x < 82 and 49 <= y < 79  # inside the File menu
    assert not first.plan.done and second.plan.done and second.plan.actions == []
    call = first.calls[0]
    assert call.module == "computer_use" and call.images == 1 and call.input_tokens == 100
    assert call.coordinates == coordinates.describe(SCREEN)
    assert "1024x768" in call.coordinates and call.reply
    body = server.requests[0]
    assert body["model"] == "gui-model" and body["max_tokens"] == 1024
    assert "response_format" not in body


def test_history_keeps_the_last_screenshots_only() -> None:
    done = "Thought: wait\nAction: wait()"
    with FakeOpenAIServer(lambda body: reply(done)) as server:
        planner = UITarsPlanner(_endpoint(server), UITARS_DEFAULT, history_images=2)
        for step in range(1, 6):
            planner.plan(_given(step))
    images = [server.image_urls(i) for i in range(5)]
    assert [len(urls) for urls in images] == [1, 2, 3, 3, 3]
    last = server.requests[-1]["messages"]
    assert [m["role"] for m in last].count("assistant") == 4  # every reply kept as text


def test_feedback_of_failed_actions_goes_back_to_the_model() -> None:
    failed = ActionOutcome(source="click(x=1, y=1)", status="failed", error="no window there")
    with FakeOpenAIServer(lambda body: reply("Action: wait()")) as server:
        UITarsPlanner(_endpoint(server), UITARS_DEFAULT).plan(_given(previous=(failed,)))
    text = server.requests[0]["messages"][-1]["content"][0]["text"]
    assert "click(x=1, y=1) failed: no window there" in text


def test_unusable_reply_is_sent_back_once_then_fails_with_both_records() -> None:
    replies = iter(["I think I should click.", "Thought: ok\nAction: click(start_box='(5,5)')"])
    with FakeOpenAIServer(lambda body: reply(next(replies))) as server:
        output = UITarsPlanner(_endpoint(server), PIXELS).plan(_given())
    assert output.plan.actions == ["click(x=5, y=5)"]
    assert [bool(c.error) for c in output.calls] == [True, False]
    repair = server.requests[1]["messages"][-1]["content"]
    assert "no 'Action:' in the reply" in repair
    with FakeOpenAIServer(lambda body: reply("Action: teleport()")) as server:
        with pytest.raises(ModelReplyError, match="UI-TARS reply: unknown action") as caught:
            UITarsPlanner(_endpoint(server), PIXELS).plan(_given())
    assert len(caught.value.calls) == 2 and all(c.error for c in caught.value.calls)


PIXELS = Coordinates("absolute", "image")


def test_call_user_ends_with_the_models_reason() -> None:
    with FakeOpenAIServer(
        lambda body: reply("Thought: I need the password.\nAction: call_user()")
    ) as server:
        with pytest.raises(UserNeeded, match="asks for help: I need the password") as caught:
            UITarsPlanner(_endpoint(server), PIXELS).plan(_given())
    assert len(caught.value.calls) == 1


def test_unreachable_server_is_recorded_and_names_the_flag() -> None:
    endpoint = ChatEndpoint(
        model="g", base_url="http://127.0.0.1:9/v1", max_retries=0, flag="--grounding-base-url"
    )
    grounder = Grounder(endpoint, "point", PIXELS)
    with pytest.raises(SkillExecutionError, match="grounding model: cannot reach") as caught:
        grounder.locate("the File menu", Image.new("RGB", SCREEN))
    assert "--grounding-base-url" in str(caught.value)
    [call] = grounder.take_calls()
    assert call.request_failed and call.module == "grounding" and call.latency_ms > 0
    with pytest.raises(ModelUnavailableError, match="cannot reach"):
        UITarsPlanner(
            ChatEndpoint(model="g", base_url="http://127.0.0.1:9/v1", max_retries=0), PIXELS
        ).plan(_given())


@pytest.mark.parametrize(
    ("fmt", "convention", "grid", "flags"),
    [
        ("point", "absolute", None, {}),
        ("point", "relative-1000", None, {"coordinates": "relative-1000"}),
        ("point", "normalized", None, {"coordinates": "normalized"}),
        ("point", "absolute", (512, 384), {"coordinates_grid": "512x384"}),
        ("uitars", "absolute", "smart-resize", {}),
        ("qwen", "relative-1000", None, {"coordinates": "relative-1000"}),
    ],
)
def test_grounder_answers_a_point_in_each_convention(fmt, convention, grid, flags) -> None:
    fake = FakeGrounder(
        {"the File menu": file_menu(SCREEN)}, fmt=fmt, convention=convention, grid=grid
    )
    with FakeOpenAIServer(fake) as server:
        grounder = GroundingSettings(
            base_url=server.base_url, model="grounder", format=fmt, **flags
        ).build()
        assert grounder is not None
        found = grounder.locate("the File menu", Image.new("RGB", SCREEN, "white"))
        grounder.close()
    assert 29 <= found.x < 82 and 49 <= found.y < 79
    assert fake.asked == ["the File menu"] and found.latency_ms > 0
    [call] = grounder.take_calls()
    assert call.module == "grounding" and call.input_tokens == 1000
    assert call.coordinates == found.coordinates and convention in found.coordinates
    assert found.result("click")["point"] == [found.x, found.y]


def test_grounder_without_a_point_or_off_the_image_fails_in_one_line() -> None:
    with FakeOpenAIServer(FakeGrounder({})) as server:
        grounder = GroundingSettings(base_url=server.base_url, model="g").build()
        with pytest.raises(SkillExecutionError, match="no usable point for 'the Save button'"):
            grounder.locate("the Save button", Image.new("RGB", SCREEN))
        assert grounder.take_calls()[0].error
    with FakeOpenAIServer(FakeGrounder({"x": (2.0, 0.5)})) as server:
        grounder = GroundingSettings(base_url=server.base_url, model="g").build()
        with pytest.raises(SkillExecutionError, match="outside the 1024x768 screenshot") as c:
            grounder.locate("x", Image.new("RGB", SCREEN))
    assert "\n" not in str(c.value)


def test_grounding_settings_refuse_half_a_configuration() -> None:
    assert GroundingSettings().build() is None
    with pytest.raises(ConfigError, match="give both --grounding-base-url and"):
        GroundingSettings(model="g").build()
    with pytest.raises(ConfigError, match="applies to absolute coordinates only"):
        GroundingSettings(
            base_url="http://x/v1", model="g", coordinates="normalized", coordinates_grid="10x10"
        ).resolved()
    assert set(GROUNDED_SKILLS) == {
        "click_target",
        "double_click_target",
        "right_click_target",
        "type_into",
    }


def _runner(grounder: Grounder | None):
    from cradle.gate.runner import ActionRunner
    from cradle.paths import shared_skills_dir
    from cradle.screen.mapping import CoordinateMap
    from cradle.skills.context import EpisodeView
    from environments.mock_notepad.app import NotepadApp

    app = NotepadApp(SCREEN)
    runner = ActionRunner.load(
        screen=app.screen,
        folders=[shared_skills_dir()],
        generated_dir=None,
        run_id="r",
        episode=EpisodeView(grounder=grounder),
    )
    return app, runner, CoordinateMap((512, 384), app.screen.geometry)


def test_without_a_grounder_grounded_skills_are_hidden_and_say_which_flags() -> None:
    app, runner, mapping = _runner(None)
    listed = runner.describe()
    assert "click(" in listed and not any(f"{name}(" in listed for name in GROUNDED_SKILLS)
    [outcome] = runner.run(
        ["click_target(description='the File menu')"], mapping=mapping, timeout=5
    )
    assert outcome.status == "failed" and "\n" not in outcome.error
    assert "--grounding-base-url URL and --grounding-model NAME" in outcome.error
    assert runner.take_model_calls() == [] and app.state()["menu"] is None


def test_click_target_clicks_where_the_grounder_says_and_records_it() -> None:
    fake = FakeGrounder({"the File menu": file_menu(SCREEN)}, convention="relative-1000")
    with FakeOpenAIServer(fake) as server:
        grounder = GroundingSettings(
            base_url=server.base_url, model="g", coordinates="relative-1000"
        ).build()
        app, runner, mapping = _runner(grounder)
        assert "click_target(description: str)" in runner.describe()
        [outcome] = runner.run(
            ["click_target(description='the File menu')"], mapping=mapping, timeout=10
        )
    assert outcome.status == "ok", outcome.error
    assert app.state()["menu"] == "File"
    assert server.image_urls(0) and fake.asked == ["the File menu"]
    result = outcome.result
    assert result["target"] == "the File menu" and outcome.clicks == [tuple(result["point"])]
    assert result["reply"].startswith("(") and result["latency_ms"] > 0
    assert "relative-1000 of the 512x384 image" in result["coordinates"]
    [call] = runner.take_model_calls()
    assert call.module == "grounding" and runner.take_model_calls() == []


def test_tool_calls_parsed_by_the_server_are_read_like_text_ones() -> None:
    from tests.fakes.openai_server import FakeResponse, completion

    body = completion("")
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": "computer_use",
                    "arguments": '{"action": "left_click", "coordinate": [500, 500]}',
                },
            }
        ],
    }
    body["choices"][0]["finish_reason"] = "tool_calls"
    with FakeOpenAIServer(lambda request: FakeResponse(200, body)) as server:
        output = QwenPlanner(_endpoint(server), Coordinates("relative-1000")).plan(_given())
    assert output.plan.actions == ["click(x=512, y=384)"]
    assert "<tool_call>" in output.calls[0].reply


def test_a_secret_is_never_sent_to_the_grounder_as_a_description() -> None:
    from cradle.gate.secrets import SecretStore

    fake = FakeGrounder({"the password field": file_menu(SCREEN)})
    with FakeOpenAIServer(fake) as server:
        grounder = GroundingSettings(base_url=server.base_url, model="g").build()
        app, runner, mapping = _runner(grounder)
        runner.secrets = SecretStore({"PW": "hunter2-secret"})
        outcomes = runner.run(
            ["click_target(description='{secret:PW}')", "type_into('{secret:PW}', text='x')"],
            mapping=mapping,
            timeout=10,
        )
    assert [o.status for o in outcomes] == ["rejected", "rejected"]
    assert "cannot be part of a description" in outcomes[0].error
    assert server.requests == []
