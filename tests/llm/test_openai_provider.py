"""The real openai client against a local OpenAI-compatible server."""

import base64
import io
import json

import pytest
from PIL import Image

from cradle.errors import ModelReplyError, ModelUnavailableError, UsageError
from cradle.llm.base import ModelRequest
from cradle.llm.openai_provider import OpenAIProvider
from cradle.types import ActionPlan
from tests.fakes.llama_cpp_server import format_kind
from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse

PLAN = {"reasoning": "type it", "actions": ["type_text(text='hi')"], "done": True}


def _request(images=()) -> ModelRequest:
    return ModelRequest(
        module="action_planning",
        system="sys",
        user="user text",
        output_model=ActionPlan,
        images=tuple(images),
    )


def _provider(server: FakeOpenAIServer, **kwargs) -> OpenAIProvider:
    return OpenAIProvider(model="fake", base_url=server.base_url, max_retries=0, **kwargs)


def test_structured_output_request_and_usage_recorded():
    with FakeOpenAIServer(replies=[PLAN]) as server:
        reply = _provider(server).complete(_request())
    assert reply.output == ActionPlan(**PLAN)
    body = server.requests[0]
    assert body["model"] == "fake"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    call = reply.calls[0]
    assert (call.input_tokens, call.output_tokens) == (100, 20)
    assert call.latency_ms > 0
    assert call.response_mode == "json_schema"
    assert "user text" in call.prompt


def test_images_are_sent_as_data_urls():
    image = Image.new("RGB", (64, 32), "red")
    with FakeOpenAIServer(replies=[PLAN]) as server:
        reply = _provider(server).complete(_request([image]))
    urls = server.image_urls(0)
    assert len(urls) == 1 and urls[0].startswith("data:image/jpeg;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(urls[0].split(",", 1)[1])))
    assert decoded.size == (64, 32)
    assert reply.calls[0].images == 1
    assert "base64" not in reply.calls[0].prompt  # image bytes never reach the record


def test_falls_back_when_server_refuses_json_schema_and_remembers():
    def handler(body):
        fmt = (body.get("response_format") or {}).get("type")
        if fmt in ("json_schema", "json_object"):
            return FakeResponse(400, {"error": {"message": f"{fmt} not supported"}})
        return "Here you go:\n```json\n" + json.dumps(PLAN) + "\n```"

    with FakeOpenAIServer(handler) as server:
        provider = _provider(server)
        first = provider.complete(_request())
        second = provider.complete(_request())
    assert first.output.done and second.output.done
    modes = [format_kind(b) for b in server.requests]
    assert modes == ["json_schema", "json_object_schema", "json_object", "prompt", "prompt"]
    assert [c.response_mode for c in first.calls if c.request_failed] == [
        "json_schema",
        "json_object_schema",
        "json_object",
    ]
    system = server.requests[-1]["messages"][0]["content"]
    assert "JSON schema" in system and '"actions"' in system
    assert provider.response_mode == "prompt"


def test_unusable_reply_is_repaired_once_then_fails():
    with FakeOpenAIServer(replies=["not json at all", json.dumps(PLAN)]) as server:
        reply = _provider(server).complete(_request())
    assert reply.output.done and len(reply.calls) == 2
    assert reply.calls[0].error
    repair = server.requests[1]["messages"][-1]["content"]
    assert "not usable" in repair

    with FakeOpenAIServer(replies=["garbage", "more garbage"]) as server:
        with pytest.raises(ModelReplyError) as caught:
            _provider(server).complete(_request())
    assert len(caught.value.calls) == 2


def test_unreachable_server_is_one_clear_error():
    provider = OpenAIProvider(model="fake", base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(ModelUnavailableError, match="cannot reach the model server"):
        provider.complete(_request())


def test_server_error_after_retries_is_model_unavailable():
    with FakeOpenAIServer(lambda body: FakeResponse(500, {"error": {"message": "boom"}})) as s:
        with pytest.raises(ModelUnavailableError, match="500"):
            _provider(s).complete(_request())


def test_missing_key_for_openai_is_a_usage_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UsageError, match="OPENAI_API_KEY"):
        OpenAIProvider(model="gpt-4o")


def test_local_server_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(replies=[PLAN]) as server:
        assert _provider(server).complete(_request()).output.done


def test_key_from_named_variable_is_sent_as_bearer(monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-named-variable")
    with FakeOpenAIServer(replies=[PLAN]) as server:
        _provider(server, api_key_env="MY_KEY").complete(_request())
    assert server.headers[0].get("authorization") == "Bearer sk-named-variable"
