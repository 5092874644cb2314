"""The model provider for OpenAI, Azure OpenAI and every OpenAI-compatible server.

vLLM, Ollama, LM Studio and llama.cpp's servers all speak the chat completions API; only the
base URL differs, and what they accept (``cradle.llm.server_compat`` has the table). Structured
outputs are tried first (``json_schema``); a server that refuses them gets ``json_object``
with the schema (llama.cpp's grammar), then plain ``json_object``, then the schema in the
prompt. The first mode a server accepts is remembered for the rest of the run, so the
fallback costs one request once; ``response_mode`` forces one mode instead.

Every request carries ``max_tokens`` and plain string content unless an image goes with it.
Every request that fails is recorded (prompt, error, latency) with the calls of the step.
The repair loop, records and error text are shared with the other providers
(``cradle.llm.sdk_provider``).
"""

from __future__ import annotations

import time
from typing import Any

import openai
from pydantic import BaseModel

from cradle.errors import ModelUnavailableError, UsageError
from cradle.llm.base import ModelRequest
from cradle.llm.images import data_url
from cradle.llm.openai_client import DEFAULT_BASE_URL, OpenAIClientProvider, openai_client
from cradle.llm.schema import schema_instructions
from cradle.llm.sdk_provider import DEFAULT_MAX_OUTPUT_TOKENS, Sent, retry_pause, short
from cradle.llm.server_compat import MODES, classify, error_text, response_format
from cradle.types import ModelCall, ResponseMode

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_OUTPUT_TOKENS", "OpenAIProvider", "openai_client"]


class OpenAIProvider(OpenAIClientProvider):
    """Chat completions with images, structured outputs, repair retries and usage records."""

    def __init__(self, *, response_mode: ResponseMode | None = None, **options: Any) -> None:
        """``options`` are :class:`~cradle.llm.openai_client.OpenAIClientProvider`'s;
        ``response_mode`` forces one structured-output mode instead of the fallback."""
        if response_mode is not None and response_mode not in MODES:
            raise UsageError(f"unknown response mode {response_mode!r}: use {', '.join(MODES)}")
        super().__init__(**options)
        self.forced_mode = response_mode
        self._modes = (response_mode,) if response_mode else MODES
        self._mode_index = 0
        self._confirmed = False
        """A reply came back in the current mode: its failures are real, retry them."""
        self._token_param = "max_tokens"

    @property
    def response_mode(self) -> ResponseMode:
        """The structured-output mode this server has accepted so far."""
        return self._modes[self._mode_index]

    # ------------------------------------------------------------------ request building

    def _messages(self, request: ModelRequest, mode: ResponseMode) -> list[dict[str, Any]]:
        system = request.system
        if mode != "json_schema":
            system = f"{system}\n\n{schema_instructions(request.output_model)}"
        # A list of parts only when an image goes with it: servers for text-only models
        # (llama-cpp-python) answer 500 to any list content, even of text parts alone.
        content: str | list[dict[str, Any]] = request.user
        if request.images:
            content = [{"type": "text", "text": request.user}]
            content.extend(
                {
                    "type": "image_url",
                    "image_url": {
                        "url": data_url(image, self.image_format),
                        "detail": self.image_detail,
                    },
                }
                for image in request.images
            )
        return [{"role": "system", "content": system}, {"role": "user", "content": content}]

    def _kwargs(
        self, request: ModelRequest, messages: list[dict[str, Any]], mode: ResponseMode
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self._model, "messages": messages}
        fmt = response_format(request, mode)
        if fmt is not None:
            kwargs["response_format"] = fmt
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        kwargs[self._token_param] = self._reply_budget(request)
        return kwargs

    # ------------------------------------------------------------------ calling

    def _create(self, kwargs: dict[str, Any]) -> Any:
        """One request. While no reply has come back in the current mode, the client's own
        retries are off: a 500 there often means "unsupported" (llama-cpp-python), and two
        retries with back-off would only delay the fallback. A failure that does not mean
        that is sent again, after the pause the client would have made, with the retries
        left."""
        create = self._client.chat.completions.create
        with_options = getattr(self._client, "with_options", None)
        if self._confirmed or self._max_retries == 0 or with_options is None:
            return create(**kwargs)
        try:
            return with_options(max_retries=0).chat.completions.create(**kwargs)
        except (
            openai.InternalServerError,
            openai.RateLimitError,
            openai.APIConnectionError,
        ) as exc:
            if self._meaning(exc, kwargs) is not None:
                raise
            time.sleep(retry_pause(exc))
        return with_options(max_retries=self._max_retries - 1).chat.completions.create(**kwargs)

    def _meaning(self, exc: Exception, kwargs: dict[str, Any]) -> Any:
        images = any(isinstance(m["content"], list) for m in kwargs["messages"])
        return classify(
            getattr(exc, "status_code", None),
            error_text(exc),
            has_format="response_format" in kwargs,
            has_images=images,
        )

    def _request(
        self, request: ModelRequest, messages_for: Any, prompt: str
    ) -> tuple[Any, ResponseMode, float, list[ModelCall]]:
        """Send in the remembered mode, falling back on a refused format; returns the
        response, its mode, its latency and the records of the requests that failed."""
        failed: list[ModelCall] = []
        while True:
            mode = self._modes[self._mode_index]
            kwargs = self._kwargs(request, messages_for(mode), mode)
            # The model's own time is the request on the wire, not the encoding before it.
            started = time.perf_counter()
            try:
                response = self._create(kwargs)
            except (openai.OpenAIError, ValueError) as exc:
                latency = (time.perf_counter() - started) * 1000
                meaning = self._meaning(exc, kwargs)
                message = self._redact(self._mode_failure(exc, meaning, mode))
                failed.append(self._failed_call(request, mode, prompt, message, latency))
                if self._next(meaning):
                    continue
                raise ModelUnavailableError(message, calls=tuple(failed)) from None
            self._confirmed = True
            return response, mode, (time.perf_counter() - started) * 1000, failed

    def _next(self, meaning: Any) -> bool:
        """Change what is sent after a refusal; False when nothing is left to try."""
        if meaning == "token_param" and self._token_param == "max_tokens":
            self._token_param = "max_completion_tokens"
            return True
        if meaning == "format" and self._mode_index + 1 < len(self._modes):
            self._mode_index += 1
            self._confirmed = False
            return True
        return False

    def _mode_failure(self, exc: Exception, meaning: Any, mode: ResponseMode) -> str:
        """One line saying what failed and what to do."""
        status = getattr(exc, "status_code", None)
        if meaning == "format":
            if self.forced_mode is not None:
                return (
                    f"the model server refused --response-mode {mode} ({status}): "
                    f"{short(exc)}; try another mode or leave the option out"
                )
            if self._mode_index + 1 < len(self._modes):
                nxt = self._modes[self._mode_index + 1]
                return f"the server refused {mode} ({status}): {short(exc)}; trying {nxt}"
            return f"the model server rejected the request ({status}): {short(exc)}"
        if meaning == "image":
            return (
                f"the model server at {self.base_url} failed on a request with an image "
                f"({status}): {short(exc)}; if the model has no image input, run with "
                "--no-vision"
            )
        if meaning == "token_param":
            return f"the server wants max_completion_tokens ({status}): retrying with it"
        return self._failure_message(exc)

    # ------------------------------------------------------------------ the reply

    def _send(self, request: ModelRequest, tail: list[Any], prompt: str) -> Sent:
        def messages_for(mode: ResponseMode) -> list[dict[str, Any]]:
            return [*self._messages(request, mode), *tail]

        response, mode, latency_ms, failed = self._request(request, messages_for, prompt)
        text = _reply_text(response)
        usage = getattr(response, "usage", None)
        call = ModelCall(
            module=request.module,
            model=self._model,
            response_mode=mode,
            prompt=prompt,
            images=len(request.images),
            reply=text,
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            latency_ms=round(latency_ms, 2),
        )
        return Sent(call=call, text=text, raw=response, failed=failed, refusal=_refusal(response))

    def _cut_off(self, raw: Any) -> bool:
        return _finish_reason(raw) == "length"

    def ask_text(self, user: str, images: tuple = (), max_tokens: int = 32) -> tuple[str, float]:
        """A plain text reply to ``user`` (for ``cradle models check``) and its latency."""
        request = ModelRequest(
            module="check",
            system="Answer briefly.",
            user=user,
            output_model=BaseModel,
            images=images,
        )
        kwargs = {
            **self._kwargs(request, self._messages(request, "json_schema"), "prompt"),
            self._token_param: max_tokens,
        }
        response, latency = self.probe(lambda client: client.chat.completions.create(**kwargs))
        return _reply_text(response), latency


def _finish_reason(response: Any) -> str:
    try:
        return str(response.choices[0].finish_reason or "")
    except (AttributeError, IndexError, TypeError):
        return ""


def _reply_text(response: Any) -> str:
    try:
        choice = response.choices[0]
    except (AttributeError, IndexError, TypeError):
        return ""
    message = getattr(choice, "message", None)
    if getattr(message, "refusal", None):
        return ""
    return getattr(message, "content", None) or ""


def _refusal(response: Any) -> str:
    """The model's refusal text (structured outputs report it apart from the content)."""
    try:
        return str(getattr(response.choices[0].message, "refusal", None) or "")
    except (AttributeError, IndexError, TypeError):
        return ""
