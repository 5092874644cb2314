"""The real openai SDK's Responses API against a local server."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from cradle.errors import ModelReplyError, ModelUnavailableError, UsageError
from cradle.llm.base import ModelRequest
from cradle.llm.responses_provider import ResponsesProvider
from cradle.runtime import ModelSettings
from cradle.types import ActionPlan
from tests.fakes.responses_server import (
    FakeResponsesServer,
    error,
    refusal_message,
    response,
    text_message,
)

PLAN = {"reasoning": "type it", "actions": ["type_text(text='hi')"], "done": True}
KEY = "sk-responses-unit-test-77"


def _request(images=(), budget=None) -> ModelRequest:
    return ModelRequest(
        module="action_planning",
        system="sys prompt",
        user="user text",
        output_model=ActionPlan,
        images=tuple(images),
        max_output_tokens=budget,
    )


def _provider(server: FakeResponsesServer, **kwargs) -> ResponsesProvider:
    return ResponsesProvider(
        model="gpt-fake",
        base_url=server.base_url,
        api_key=KEY,
        max_retries=kwargs.pop("max_retries", 0),
        **kwargs,
    )


def test_request_shape_structured_output_and_usage():
    image = Image.new("RGB", (40, 30), "blue")
    reply_body = response([text_message(json.dumps(PLAN))], input_tokens=321, output_tokens=45)
    with FakeResponsesServer(replies=[reply_body]) as server:
        reply = _provider(server).complete(_request([image], budget=700))
    assert reply.output == ActionPlan(**PLAN)
    body = server.requests[0]
    assert server.paths == ["/v1/responses"]
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    assert body["instructions"] == "sys prompt" and body["max_output_tokens"] == 700
    fmt = body["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "ActionPlan" and fmt["strict"]
    assert fmt["schema"]["additionalProperties"] is False
    (message,) = body["input"]
    assert message["role"] == "user"
    assert [p["type"] for p in message["content"]] == ["input_text", "input_image"]
    assert message["content"][0]["text"] == "user text"
    url = server.image_urls(0)[0]
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size == (40, 30)
    (call,) = reply.calls
    assert (call.input_tokens, call.output_tokens) == (321, 45)
    assert call.response_mode == "json_schema" and call.images == 1


def test_an_unusable_reply_is_repaired_once_then_fails():
    with FakeResponsesServer(replies=["not json", PLAN]) as server:
        reply = _provider(server).complete(_request())
    assert reply.output.done and reply.calls[0].error
    assistant, note = server.requests[1]["input"][1:]
    assert assistant == {"role": "assistant", "content": "not json"}
    assert "not usable" in note["content"]

    with FakeResponsesServer(replies=["junk", {"done": "maybe"}]) as server:
        with pytest.raises(ModelReplyError, match="after 2 attempt"):
            _provider(server).complete(_request())


def test_a_refusal_part_ends_the_request():
    with FakeResponsesServer(replies=[response([refusal_message("I won't do that.")])]) as s:
        with pytest.raises(ModelReplyError, match="refused to answer: I won't do that"):
            _provider(s).complete(_request())
    assert len(s.requests) == 1


def test_an_incomplete_reply_names_the_flag():
    cut = response(
        [text_message('{"reasoning": "lo')], status="incomplete", incomplete="max_output_tokens"
    )
    with FakeResponsesServer(replies=[cut, cut]) as server:
        with pytest.raises(ModelReplyError, match="cut off at 1024 tokens"):
            _provider(server).complete(_request())


def test_errors_are_one_line_naming_the_key_variable(monkeypatch):
    monkeypatch.setenv("RESP_KEY", KEY)
    with FakeResponsesServer(lambda body: error(401, "bad key", "invalid_api_key")) as server:
        provider = ResponsesProvider(
            model="m", base_url=server.base_url, api_key_env="RESP_KEY", max_retries=0
        )
        with pytest.raises(ModelUnavailableError, match="check RESP_KEY") as caught:
            provider.complete(_request())
    assert caught.value.calls[0].request_failed
    with FakeResponsesServer(lambda body: error(500, "boom", "server_error")) as server:
        with pytest.raises(ModelUnavailableError, match=r"failed \(500\) after retries: boom"):
            _provider(server, max_retries=1).complete(_request())
    assert len(server.requests) == 2


def test_openai_itself_needs_a_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(UsageError, match="set OPENAI_API_KEY"):
        ModelSettings(provider="openai-responses").build_provider()
