"""The real anthropic SDK against a local Messages API server."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from cradle.errors import ModelReplyError, ModelUnavailableError, UsageError
from cradle.llm.anthropic_provider import AnthropicProvider
from cradle.llm.base import ModelRequest
from cradle.runtime import ModelSettings
from cradle.types import ActionPlan
from tests.fakes.anthropic_server import FakeAnthropicServer, error, message, tool_use
from tests.fakes.openai_server import FakeResponse

PLAN = {"reasoning": "type it", "actions": ["type_text(text='hi')"], "done": True}
KEY = "sk-ant-unit-test-key-0042"


def _request(images=(), budget=None) -> ModelRequest:
    return ModelRequest(
        module="action_planning",
        system="sys prompt",
        user="user text",
        output_model=ActionPlan,
        images=tuple(images),
        max_output_tokens=budget,
    )


def _provider(server: FakeAnthropicServer, **kwargs) -> AnthropicProvider:
    return AnthropicProvider(
        model="claude-fake",
        base_url=server.base_url,
        api_key=KEY,
        max_retries=kwargs.pop("max_retries", 0),
        **kwargs,
    )


def test_structured_output_by_a_forced_tool_with_usage_and_cache_tokens():
    reply_body = message(
        [tool_use("ActionPlan", PLAN)],
        stop_reason="tool_use",
        input_tokens=60,
        output_tokens=25,
        cache_read_input_tokens=30,
        cache_creation_input_tokens=10,
    )
    with FakeAnthropicServer(replies=[reply_body]) as server:
        reply = _provider(server).complete(_request(budget=512))
    assert reply.output == ActionPlan(**PLAN)
    body = server.requests[0]
    assert server.paths == ["/v1/messages"]
    assert server.headers[0]["anthropic-version"]
    assert KEY in (server.headers[0].get("x-api-key", "") + server.headers[0]["authorization"])
    assert body["system"] == "sys prompt" and body["max_tokens"] == 512
    assert body["messages"] == [{"role": "user", "content": "user text"}]
    (tool,) = body["tools"]
    assert tool["name"] == "ActionPlan" and tool["input_schema"]["type"] == "object"
    assert set(tool["input_schema"]["required"]) == {"reasoning", "actions", "done"}
    assert body["tool_choice"] == {"type": "tool", "name": "ActionPlan"}
    (call,) = reply.calls
    assert call.response_mode == "tool_use" and json.loads(call.reply) == PLAN
    assert (call.input_tokens, call.output_tokens) == (100, 25)  # cache reads and writes count
    assert call.latency_ms > 0 and "user text" in call.prompt


def test_images_are_base64_blocks_before_the_text():
    image = Image.new("RGB", (64, 32), "red")
    with FakeAnthropicServer(replies=[PLAN]) as server:
        reply = _provider(server).complete(_request([image]))
    content = server.requests[0]["messages"][0]["content"]
    assert [block["type"] for block in content] == ["image", "text"]
    source = content[0]["source"]
    assert source["type"] == "base64" and source["media_type"] == "image/jpeg"
    assert Image.open(io.BytesIO(base64.b64decode(source["data"]))).size == (64, 32)
    assert reply.calls[0].images == 1 and "base64" not in reply.calls[0].prompt


def test_invalid_tool_input_is_sent_back_as_an_error_result_once():
    with FakeAnthropicServer(replies=[{"reasoning": "no actions"}, PLAN]) as server:
        reply = _provider(server).complete(_request())
    assert reply.output.done and len(reply.calls) == 2
    assert "does not fit ActionPlan" in reply.calls[0].error
    assistant, user = server.requests[1]["messages"][1:]
    assert assistant["content"][0]["type"] == "tool_use"
    (result,) = user["content"]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert result["tool_use_id"] == assistant["content"][0]["id"]
    assert "actions: Field required" in result["content"]
    assert "[repair]" in reply.calls[1].prompt

    with FakeAnthropicServer(replies=[{"x": 1}, {"y": 2}]) as server:
        with pytest.raises(ModelReplyError, match="after 2 attempt") as caught:
            _provider(server).complete(_request())
    assert len(caught.value.calls) == 2 and len(server.requests) == 2


def test_a_text_reply_without_the_tool_call_is_asked_again():
    with FakeAnthropicServer(replies=["I think you should type hi.", PLAN]) as server:
        reply = _provider(server).complete(_request())
    assert reply.output.done
    assert "without calling the tool ActionPlan" in reply.calls[0].error
    assert reply.calls[0].reply == "I think you should type hi."
    note = server.requests[1]["messages"][2]["content"][0]
    assert note["type"] == "text" and "calling the tool ActionPlan" in note["text"]


def test_a_refusal_ends_the_request_without_a_repair():
    refusal = message([{"type": "text", "text": "I can't help with that."}], stop_reason="refusal")
    with FakeAnthropicServer(replies=[refusal, PLAN]) as server:
        with pytest.raises(ModelReplyError, match="refused to answer: I can't help") as caught:
            _provider(server).complete(_request())
    assert len(server.requests) == 1 and caught.value.calls[0].error


def test_a_reply_cut_off_at_max_tokens_says_which_flag_to_raise():
    cut = message([tool_use("ActionPlan", {"reasoning": "long"})], stop_reason="max_tokens")
    with FakeAnthropicServer(replies=[cut, cut]) as server:
        with pytest.raises(
            ModelReplyError,
            match=r"cut off at 300 tokens: raise "
            r"--max-output-tokens",
        ):
            _provider(server, max_output_tokens=300).complete(_request(budget=2048))
    assert {body["max_tokens"] for body in server.requests} == {300}


def test_a_refused_key_names_the_variable_and_is_recorded(monkeypatch):
    monkeypatch.setenv("MY_CLAUDE_KEY", KEY)
    refused = error(401, "authentication_error", f"invalid x-api-key {KEY}")
    with FakeAnthropicServer(lambda body: refused) as server:
        provider = AnthropicProvider(
            model="m", base_url=server.base_url, api_key_env="MY_CLAUDE_KEY", max_retries=0
        )
        with pytest.raises(ModelUnavailableError, match="check MY_CLAUDE_KEY") as caught:
            provider.complete(_request())
    (failed,) = caught.value.calls
    assert failed.request_failed and "401" in failed.error and failed.latency_ms > 0
    assert KEY not in str(caught.value) + failed.error


def test_overloaded_is_retried_by_the_sdk_then_one_clear_error():
    with FakeAnthropicServer(lambda body: error(529, "overloaded_error", "Overloaded")) as server:
        with pytest.raises(ModelUnavailableError, match=r"overloaded \(529\) after retries"):
            _provider(server, max_retries=1).complete(_request())
    assert len(server.requests) == 2


def test_a_slow_server_is_a_timeout_message():
    slow = FakeResponse(200, {}, delay=2.0)
    with FakeAnthropicServer(lambda body: slow) as server:
        with pytest.raises(ModelUnavailableError, match="did not answer in time"):
            _provider(server, timeout=0.3).complete(_request())


def test_the_key_variable_follows_the_provider(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    settings = ModelSettings(provider="anthropic", model="claude")
    assert settings.api_key_env == "ANTHROPIC_API_KEY"
    assert ModelSettings(provider="openai-responses").api_key_env == "OPENAI_API_KEY"
    assert ModelSettings(provider="anthropic", api_key_env="K").api_key_env == "K"
    with pytest.raises(UsageError, match="set ANTHROPIC_API_KEY"):
        settings.build_provider()
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    assert isinstance(settings.build_provider(), AnthropicProvider)
