"""How llama-cpp-python's server answers, for ``FakeOpenAIServer``.

Measured against the real server with a text-only model (SmolLM2-135M-Instruct): a
``json_schema`` response format fails request validation, and its error handler turns that
into **500** with the pydantic message; any message whose ``content`` is a list (even of text
parts alone) fails in the chat template, also 500; ``{"type": "json_object", "schema": ...}``
is accepted (the schema becomes a grammar), as is plain ``json_object``.
"""

from __future__ import annotations

from typing import Any

from cradle.llm.schema import strict_schema
from cradle.types import (
    ActionPlan,
    FusedStep,
    InformationGathering,
    SelfReflection,
    SkillCuration,
    TaskInference,
)
from tests.fakes.openai_server import FakeResponse, Handler

JSON_SCHEMA_ERROR = (
    "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}]"
)
LIST_CONTENT_ERROR = 'can only concatenate str (not "list") to str'

_OUTPUTS = (
    InformationGathering,
    SelfReflection,
    TaskInference,
    SkillCuration,
    ActionPlan,
    FusedStep,
)


def _error(message: str) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "internal_server_error", "param": None, "code": None}
    }


def format_kind(body: dict) -> str:
    """json_schema, json_object_schema, json_object or prompt: what a request asked for."""
    fmt = body.get("response_format") or {}
    kind = fmt.get("type")
    if kind == "json_object" and "schema" in fmt:
        return "json_object_schema"
    return kind or "prompt"


def requested_output(body: dict) -> str | None:
    """The output model a request asks for, by its schema's name or its properties."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return fmt["json_schema"]["name"]
    schema = fmt.get("schema")
    if schema is None:
        return None
    for model in _OUTPUTS:
        if set(strict_schema(model)["properties"]) == set(schema.get("properties", {})):
            return model.__name__
    return None


class LlamaCppLike:
    """A handler that refuses what llama-cpp-python refuses and passes the rest to ``answer``."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.formats: list[str] = []
        self.refused: list[str] = []

    def __call__(self, body: dict) -> FakeResponse | str | dict:
        kind = format_kind(body)
        self.formats.append(kind)
        if kind == "json_schema":
            self.refused.append(kind)
            return FakeResponse(500, _error(JSON_SCHEMA_ERROR))
        if any(isinstance(m.get("content"), list) for m in body.get("messages", [])):
            self.refused.append("list_content")
            return FakeResponse(500, _error(LIST_CONTENT_ERROR))
        return self.answer(body)
