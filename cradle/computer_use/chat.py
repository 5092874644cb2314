"""A plain-text chat completions endpoint for open GUI models and grounding models.

UI-TARS, Qwen-VL and grounding models answer in their own text grammar, not in a JSON schema,
so they are asked without ``response_format`` and their reply is parsed by the caller. This is
the small piece they share: the ``openai`` client against any OpenAI-compatible server (vLLM,
Ollama, LM Studio, llama.cpp), images as data URLs, ``max_tokens`` always sent, and a
``ModelCall`` record for every request, failed ones included (prompt, error, latency), so the
run folder shows what was sent and what it cost.
"""

from __future__ import annotations

import json
import time
from typing import Any

from PIL import Image

from cradle.errors import ModelUnavailableError, UsageError
from cradle.llm.images import ImageFormat, data_url
from cradle.types import ModelCall

MAX_REPLY_CHARS = 20_000
"""A reply longer than this is cut before parsing: no action grammar needs more."""


def image_part(image: Image.Image, fmt: ImageFormat = "jpeg") -> dict[str, Any]:
    """One image as a chat content part."""
    return {"type": "image_url", "image_url": {"url": data_url(image, fmt)}}


def prompt_text(messages: list[dict[str, Any]]) -> str:
    """The messages as recorded: roles and text, each image replaced by a placeholder."""
    lines: list[str] = []
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            text = content
        else:
            text = "\n".join(
                part["text"] if part["type"] == "text" else "[image]" for part in content
            )
        lines.append(f"[{message['role']}]\n{text}")
    return "\n".join(lines)


class ChatEndpoint:
    """One model on one OpenAI-compatible server, asked in plain text.

    ``flag`` names the option that points at the server (``--base-url`` or
    ``--grounding-base-url``), so errors say which one to fix.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 60.0,
        max_retries: int = 2,
        flag: str = "--base-url",
        image_format: ImageFormat = "jpeg",
        client: Any = None,
    ) -> None:
        self.model = model
        self.flag = flag
        self.image_format = image_format
        self.key_env = api_key_env
        self.base_url = base_url or "https://api.openai.com/v1"
        self._key = ""
        self._client = (
            client
            if client is not None
            else self._make_client(base_url, api_key_env, timeout, max_retries)
        )

    def _make_client(
        self, base_url: str | None, api_key_env: str, timeout: float, max_retries: int
    ) -> Any:
        from cradle.llm.openai_provider import openai_client

        try:
            client, self._key = openai_client(
                base_url, None, api_key_env, None, None, timeout, max_retries
            )
        except UsageError as exc:
            raise UsageError(str(exc).replace("--base-url", self.flag)) from None
        return client

    def ask(
        self, messages: list[dict[str, Any]], *, module: str, max_tokens: int, coordinates: str = ""
    ) -> tuple[str, ModelCall]:
        """The reply text and its record; ``ModelUnavailableError`` (with the failed call's
        record) when no reply came back."""
        import openai

        from cradle.llm.sdk_provider import transport_message

        prompt = prompt_text(messages)
        images = sum(
            1
            for m in messages
            if isinstance(m["content"], list)
            for part in m["content"]
            if part["type"] == "image_url"
        )
        record = ModelCall(
            module=module,
            model=self.model,
            response_mode="prompt",
            prompt=prompt,
            images=images,
            coordinates=coordinates,
        )
        started = time.perf_counter()
        try:
            response = self._client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens, temperature=0.0
            )
        except (openai.OpenAIError, ValueError) as exc:
            message = transport_message(exc, openai, self.base_url, self.model, self.key_env)
            message = message.replace("--base-url", self.flag)
            if self._key:
                message = message.replace(self._key, "[redacted:api_key]")
            failed = record.model_copy(
                update={
                    "error": message,
                    "request_failed": True,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                }
            )
            raise ModelUnavailableError(message, calls=(failed,)) from None
        latency = round((time.perf_counter() - started) * 1000, 2)
        usage = getattr(response, "usage", None)
        text = _text(response)[:MAX_REPLY_CHARS]
        return text, record.model_copy(
            update={
                "reply": text,
                "latency_ms": latency,
                "input_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
                "output_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
            }
        )

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if callable(close):
            close()


def _text(response: Any) -> str:
    """The reply's text. A server that parses tool calls itself (vLLM with a tool-call
    parser) returns them apart from the text: they are written back in Qwen's
    ``<tool_call>`` form, so the grammar's parser reads the reply either way."""
    try:
        message = response.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return ""
    text = str(getattr(message, "content", None) or "")
    for call in getattr(message, "tool_calls", None) or []:
        function = getattr(call, "function", None)
        name, arguments = getattr(function, "name", ""), getattr(function, "arguments", "{}")
        text += (
            f'\n<tool_call>\n{{"name": {json.dumps(name)}, "arguments": {arguments}}}\n</tool_call>'
        )
    return text
