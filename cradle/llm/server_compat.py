"""What OpenAI-compatible servers accept, and how they say no.

Every server below speaks chat completions, but they differ in the structured-output modes
they take and in how they refuse the rest. The provider tries the modes in ``MODES`` order
and stays on the first one a server accepts, so it must tell a refusal of the *request shape*
(try the next mode) from a server that is down or overloaded (stop, after the client's own
retries). It decides from the HTTP status and the error text, per this table. Only the
llama-cpp-python row was measured (0.3.36, a text-only model); the others are what those
projects document or users report, and the rules below do not depend on their exact wording:

=====================  ==============================  ========================================
Server family          Refuses a response_format with  Refuses image parts / list content with
=====================  ==============================  ========================================
OpenAI, Azure OpenAI   400 "Invalid parameter:         400 "image_url is only supported by
                       'response_format' ..."          certain models"
vLLM                   400 (BadRequest, names the      400 ("... is not a multimodal model")
                       guided-decoding backend)
Ollama (/v1)           400 "invalid format"            400/500 naming images / vision
LM Studio              400 "'response_format.type'     400 naming images / vision
                       must be 'json_schema' or
                       'text'" (no json_object)
llama.cpp llama-server 400 or 500 naming               500 (older builds) or 400 naming
                       response_format / schema /      images / multimodal / mmproj
                       grammar
llama-cpp-python       **500** "Input should be        **500** for any *list* content on a
                       'text' or 'json_object'"        text-only chat format, even text-only
                       (a pydantic error on            parts
                       response_format.type)
=====================  ==============================  ========================================

Rules drawn from it (``classify``): a 400, 422 or 500 whose text names the response format
(``response_format``, ``json_schema``, ``json_object``, ``schema``, ``grammar``) on a request
that carried one means "this mode is not supported": fall back at once, with no retry (the
openai client retries every 5xx by itself, which only delays the fallback; see
``OpenAIProvider``). A 400/422 on a request with a response format is also taken as a refusal
of the format even when its text names nothing (the rule before this table). A failure on a
request with an image whose text names images, vision, multimodal or lists means the model
has no image input: that is the user's choice to make (``--no-vision``), not something to work
around silently. A 400 that asks for ``max_completion_tokens`` (OpenAI's reasoning models)
switches the token parameter's name. Anything else is a real failure.

The modes, from most to least help from the server:

- ``json_schema``: OpenAI structured outputs, ``strict`` (OpenAI, vLLM, Ollama, LM Studio,
  llama-server).
- ``json_object_schema``: ``{"type": "json_object", "schema": {...}}``, which llama.cpp's
  servers (llama-server and llama-cpp-python) turn into a grammar: the reply fits the schema
  even where ``json_schema`` is refused.
- ``json_object``: any JSON object; the schema is written into the prompt.
- ``prompt``: no response format; the schema in the prompt and one repair request.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from cradle.llm.base import ModelRequest
from cradle.llm.schema import schema_name, strict_schema
from cradle.types import ResponseMode

MODES: tuple[ResponseMode, ...] = ("json_schema", "json_object_schema", "json_object", "prompt")
"""The fallback chain, in the order tried."""

Failure = Literal["format", "image", "token_param"]
"""What a refusal means: the response format, an image part, the ``max_tokens`` name."""

_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "grammar")
_IMAGE_WORDS = ("image", "vision", "multimodal", "mmproj", "list")
_ERROR_TEXT_LIMIT = 4000
"""Characters of an error body searched (a server may echo the whole request back)."""


def response_format(request: ModelRequest, mode: ResponseMode) -> dict[str, Any] | None:
    """The ``response_format`` field for ``mode`` (None: send none)."""
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {
                "name": schema_name(request.output_model),
                "schema": strict_schema(request.output_model),
                "strict": True,
            },
        }
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": strict_schema(request.output_model)}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def error_text(exc: Exception) -> str:
    """The error's message and body, lower case and bounded, for matching."""
    body = getattr(exc, "body", None)
    try:
        body_text = json.dumps(body) if body is not None else ""
    except (TypeError, ValueError):
        body_text = str(body)
    text = f"{getattr(exc, 'message', exc)} {body_text}"
    return text[:_ERROR_TEXT_LIMIT].lower()


def classify(
    status: int | None, text: str, *, has_format: bool, has_images: bool
) -> Failure | None:
    """What a failed request's status and error text (from ``error_text``) mean; None: a
    real failure (server down, overloaded, or broken)."""
    if status is None:
        return None
    if status == 400 and "max_completion_tokens" in text:
        return "token_param"
    if has_format and status in (400, 422, 500) and any(w in text for w in _FORMAT_WORDS):
        return "format"
    if has_images and status in (400, 415, 422, 500) and any(w in text for w in _IMAGE_WORDS):
        return "image"
    if has_format and status in (400, 422):
        return "format"
    return None
