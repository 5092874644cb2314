"""The real openai client against fakes that refuse the way real OpenAI-compatible servers do."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from cradle.errors import ModelReplyError, ModelUnavailableError, UsageError
from cradle.llm.base import ModelRequest
from cradle.llm.openai_provider import OpenAIProvider
from cradle.llm.schema import strict_schema
from cradle.types import ActionPlan
from tests.fakes.llama_cpp_server import LlamaCppLike, format_kind
from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse

PLAN = {"reasoning": "type it", "actions": ["type_text(text='hi')"], "done": True}


def _request(images: tuple = (), max_output_tokens: int | None = None) -> ModelRequest:
    return ModelRequest(
        module="action_planning",
        system="sys",
        user="user text",
        output_model=ActionPlan,
        images=images,
        max_output_tokens=max_output_tokens,
    )


def _provider(server: FakeOpenAIServer, **kwargs) -> OpenAIProvider:
    kwargs.setdefault("max_retries", 2)  # the client's default: a 500 must not be retried
    return OpenAIProvider(model="fake", base_url=server.base_url, **kwargs)


def test_llama_cpp_500_on_json_schema_falls_back_at_once_to_json_object_with_schema():
    llama = LlamaCppLike(lambda body: PLAN)
    with FakeOpenAIServer(llama) as server:
        provider = _provider(server)
        first = provider.complete(_request())
        second = provider.complete(_request())
    assert first.output.done and second.output.done
    # No retry of the 500 (the client would add two), one fallback, then remembered.
    assert llama.formats == ["json_schema", "json_object_schema", "json_object_schema"]
    assert server.requests[1]["response_format"] == {
        "type": "json_object",
        "schema": strict_schema(ActionPlan),
    }
    failed, answered = first.calls
    assert failed.request_failed and failed.response_mode == "json_schema"
    assert "500" in failed.error and "trying json_object_schema" in failed.error
    assert "user text" in failed.prompt and failed.latency_ms > 0
    assert answered.response_mode == "json_object_schema" and not answered.request_failed
    assert [c.response_mode for c in second.calls] == ["json_object_schema"]


def test_content_is_a_plain_string_unless_an_image_goes_with_it():
    with FakeOpenAIServer(replies=[PLAN, PLAN]) as server:
        provider = _provider(server)
        provider.complete(_request())
        provider.complete(_request((Image.new("RGB", (8, 8)),)))
    assert server.requests[0]["messages"][1]["content"] == "user text"
    parts = server.requests[1]["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"]
    assert all(isinstance(m["content"], str) for m in server.requests[1]["messages"][:1])


def test_image_to_a_text_only_server_stops_at_once_saying_no_vision():
    llama = LlamaCppLike(lambda body: PLAN)
    with FakeOpenAIServer(llama) as server:
        with pytest.raises(ModelUnavailableError, match="--no-vision") as caught:
            _provider(server).complete(_request((Image.new("RGB", (8, 8)),)))
    assert llama.refused == ["json_schema", "list_content"]  # no retries of either 500
    calls = caught.value.calls
    assert [c.response_mode for c in calls] == ["json_schema", "json_object_schema"]
    assert all(c.request_failed and "user text" in c.prompt and c.images == 1 for c in calls)


def test_an_unexplained_500_is_still_retried_and_recorded():
    with FakeOpenAIServer(lambda body: FakeResponse(500, {"error": {"message": "boom"}})) as s:
        with pytest.raises(ModelUnavailableError, match="failed \\(500\\) after retries") as caught:
            _provider(s, max_retries=1).complete(_request())
    assert len(s.requests) == 2  # the try, then the one retry configured
    (call,) = caught.value.calls
    assert call.request_failed and "boom" in call.error and "user text" in call.prompt
    assert len({format_kind(b) for b in s.requests}) == 1


def test_max_tokens_is_always_sent_sized_by_the_request_or_the_user():
    with FakeOpenAIServer(lambda body: PLAN) as server:
        _provider(server).complete(_request(max_output_tokens=512))
        _provider(server).complete(_request())
        _provider(server, max_output_tokens=64).complete(_request(max_output_tokens=512))
    assert [b["max_tokens"] for b in server.requests] == [512, 1024, 64]


def test_reasoning_models_get_max_completion_tokens():
    def handler(body: dict) -> FakeResponse | dict:
        if "max_tokens" in body:
            return FakeResponse(
                400,
                {
                    "error": {
                        "message": "Unsupported parameter: 'max_tokens' "
                        "is not supported with this model. Use "
                        "'max_completion_tokens' instead."
                    }
                },
            )
        return PLAN

    with FakeOpenAIServer(handler) as server:
        reply = _provider(server).complete(_request())
    assert reply.output.done
    assert server.requests[-1]["max_completion_tokens"] == 1024
    assert [format_kind(b) for b in server.requests] == ["json_schema", "json_schema"]


def test_a_timed_out_request_is_recorded_with_prompt_error_and_latency():
    with FakeOpenAIServer(lambda body: FakeResponse(200, {}, delay=2.0)) as server:
        provider = OpenAIProvider(
            model="fake", base_url=server.base_url, timeout=0.4, max_retries=0
        )
        with pytest.raises(ModelUnavailableError, match="did not answer in time") as caught:
            provider.complete(_request())
    (call,) = caught.value.calls
    assert call.request_failed and "did not answer in time" in call.error
    assert "user text" in call.prompt and 350 <= call.latency_ms < 1900


@pytest.mark.parametrize("mode", ["json_schema", "json_object_schema", "json_object", "prompt"])
def test_response_mode_forces_one_mode(mode: str):
    with FakeOpenAIServer(lambda body: PLAN) as server:
        provider = _provider(server, response_mode=mode)
        provider.complete(_request())
        provider.complete(_request())
    assert [format_kind(b) for b in server.requests] == [mode, mode]
    schema_in_prompt = '"actions"' in server.requests[0]["messages"][0]["content"]
    assert schema_in_prompt == (mode != "json_schema")


def test_a_forced_mode_the_server_refuses_is_one_clear_error():
    with FakeOpenAIServer(LlamaCppLike(lambda body: PLAN)) as server:
        with pytest.raises(ModelUnavailableError, match="--response-mode json_schema"):
            _provider(server, response_mode="json_schema").complete(_request())
    assert len(server.requests) == 1
    with pytest.raises(UsageError, match="unknown response mode"):
        OpenAIProvider(model="m", base_url="http://127.0.0.1:9/v1", response_mode="xml")


def test_repair_sends_the_error_and_not_the_schema_again():
    echo = json.dumps(strict_schema(ActionPlan))  # what a small model did when shown the schema
    with FakeOpenAIServer(replies=[echo, PLAN]) as server:
        reply = _provider(server, response_mode="prompt").complete(_request())
    assert reply.output.done and len(reply.calls) == 2
    messages = server.requests[1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    note = messages[-1]["content"]
    assert "schema itself" in note and "not usable" in note and "only the object" in note
    assert '"properties"' not in note and "actions: Field required" in note
    # The schema is in the conversation once, in the system message, as before the repair.
    assert sum('"properties"' in m["content"] for m in messages if m["role"] != "assistant") == 1
    assert "[repair]" in reply.calls[1].prompt


def test_a_reply_cut_at_max_tokens_says_to_raise_it():
    cut = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": '{"reasoning": "ty'},
            }
        ],
    }
    with FakeOpenAIServer(lambda body: FakeResponse(200, cut)) as server:
        with pytest.raises(ModelReplyError, match="cut off at 40 tokens: raise --max-output"):
            _provider(server, repair_attempts=0).complete(_request(max_output_tokens=40))
