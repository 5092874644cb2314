"""The model provider for OpenAI's Responses API (``--provider openai-responses``).

The Responses API takes ``input`` items (the user's message as ``input_text`` and
``input_image`` parts), the system prompt as ``instructions``, and structured output as
``text.format`` of type ``json_schema`` with the strict schema (``cradle.llm.schema``). The
reply's ``output_text`` is parsed and validated like a chat reply, with one repair request
(the unusable reply as the assistant's turn, then the error); a ``refusal`` content part ends
the request at once; a reply cut off at ``max_output_tokens`` (status incomplete) says to
raise --max-output-tokens. Nothing is stored on the server (``store: false``).

The client, key and image settings are the chat provider's (``cradle.llm.openai_client``);
parsing, repair, error text and records are every SDK provider's (``cradle.llm.sdk_provider``).
"""

from __future__ import annotations

from typing import Any

from cradle.llm.base import ModelRequest
from cradle.llm.images import data_url
from cradle.llm.openai_client import OpenAIClientProvider
from cradle.llm.schema import schema_name, strict_schema
from cradle.llm.sdk_provider import Sent
from cradle.types import ModelCall


class ResponsesProvider(OpenAIClientProvider):
    """Responses API with images, json_schema output, repair and usage records."""

    _what = "a Responses API reply"

    # ------------------------------------------------------------------ request building

    def user_message(self, text: str, images: tuple[Any, ...]) -> dict[str, Any]:
        """The user's input message: an ``input_text`` part, then one ``input_image`` each."""
        parts: list[dict[str, Any]] = [{"type": "input_text", "text": text}]
        parts.extend(
            {
                "type": "input_image",
                "image_url": data_url(image, self.image_format),
                "detail": self.image_detail,
            }
            for image in images
        )
        return {"role": "user", "content": parts}

    def _kwargs(self, request: ModelRequest, tail: list[Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self._model,
            "instructions": request.system,
            "input": [self.user_message(request.user, request.images), *tail],
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": schema_name(request.output_model),
                    "schema": strict_schema(request.output_model),
                    "strict": True,
                }
            },
            "max_output_tokens": self._reply_budget(request),
            "store": False,
        }
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        return kwargs

    # ------------------------------------------------------------------ the reply hooks

    def _send(self, request: ModelRequest, tail: list[Any], prompt: str) -> Sent:
        kwargs = self._kwargs(request, tail)
        response, latency = self._timed(
            lambda: self._client.responses.create(**kwargs), request, "json_schema", prompt
        )
        text, refusal = output_text(response)
        usage = getattr(response, "usage", None)
        call = ModelCall(
            module=request.module,
            model=self._model,
            response_mode="json_schema",
            prompt=prompt,
            images=len(request.images),
            reply=text,
            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
            latency_ms=round(latency, 2),
        )
        if not refusal and _incomplete(response) == "content_filter":
            refusal = "the reply was withheld by the content filter"
        return Sent(call=call, text=text, raw=response, refusal=refusal)

    def _cut_off(self, raw: Any) -> bool:
        return _incomplete(raw) == "max_output_tokens"

    # ------------------------------------------------------------------ cradle models check

    def ask_text(self, user: str, images: tuple = (), max_tokens: int = 32) -> tuple[str, float]:
        """A plain text reply to ``user`` and its latency."""
        response, latency = self.probe(
            lambda client: client.responses.create(
                model=self._model,
                input=[self.user_message(user, images)],
                max_output_tokens=max(max_tokens, 16),
                store=False,
            )
        )
        return output_text(response)[0], latency

    def try_computer_tool(self, width: int, height: int) -> tuple[str, float]:
        """One request offering the ``computer_use_preview`` tool: what came back."""
        tool = {
            "type": "computer_use_preview",
            "display_width": width,
            "display_height": height,
            "environment": "linux",
        }
        response, latency = self.probe(
            lambda client: client.responses.create(
                model=self._model,
                tools=[tool],
                truncation="auto",
                store=False,
                input=[self.user_message("Take a screenshot to see the screen.", ())],
            )
        )
        calls = [
            item for item in _items(response) if getattr(item, "type", None) == "computer_call"
        ]
        if calls:
            action = getattr(getattr(calls[0], "action", None), "type", None)
            return f"the model called the computer tool ({action})", latency
        return "accepted; the model answered in text", latency


def _items(response: Any) -> list[Any]:
    output = getattr(response, "output", None)
    return list(output) if isinstance(output, list) else []


def output_text(response: Any) -> tuple[str, str]:
    """The reply's text (its ``output_text`` parts joined) and its refusal text, if any."""
    texts: list[str] = []
    refusals: list[str] = []
    for item in _items(response):
        if getattr(item, "type", None) != "message":
            continue
        for part in getattr(item, "content", None) or []:
            kind = getattr(part, "type", None)
            if kind == "output_text":
                texts.append(str(getattr(part, "text", "") or ""))
            elif kind == "refusal":
                refusals.append(str(getattr(part, "refusal", "") or "refused"))
    return "".join(texts), " ".join(refusals)


def _incomplete(response: Any) -> str:
    """Why the reply is incomplete (max_output_tokens, content_filter), or ""."""
    if getattr(response, "status", None) != "incomplete":
        return ""
    return str(getattr(getattr(response, "incomplete_details", None), "reason", "") or "")
