"""The model provider for OpenAI, Azure OpenAI and every OpenAI-compatible server.

vLLM, Ollama, LM Studio and llama.cpp's servers all speak the chat completions API; only the
base URL differs, and what they accept (``cradle.llm.server_compat`` has the table). Structured
outputs are tried first (``json_schema``); a server that refuses them gets ``json_object``
with the schema (llama.cpp's grammar), then plain ``json_object``, then the schema in the
prompt. The first mode a server accepts is remembered for the rest of the run, so the
fallback costs one request once; ``response_mode`` forces one mode instead.

Every request carries ``max_tokens`` and plain string content unless an image goes with it.
Every request that fails is recorded (prompt, error, latency) with the calls of the step.
"""

from __future__ import annotations

import os
import time
from typing import Any

import openai

from cradle.errors import ModelReplyError, ModelUnavailableError, UsageError
from cradle.llm.base import REPAIR_MARK, ModelReply, ModelRequest, prompt_record
from cradle.llm.images import ImageFormat, data_url
from cradle.llm.schema import parse_reply, schema_instructions
from cradle.llm.server_compat import MODES, classify, error_text, response_format
from cradle.types import ModelCall, ResponseMode

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_OUTPUT_TOKENS = 1024
"""``max_tokens`` for a request that names none (modules name their own)."""
_ECHO_LIMIT = 2000
"""Characters of an unusable reply sent back with the repair request."""


class OpenAIProvider:
    """Chat completions with images, structured outputs, repair retries and usage records."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        azure_endpoint: str | None = None,
        azure_api_version: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        repair_attempts: int = 1,
        image_format: ImageFormat = "jpeg",
        image_detail: str = "auto",
        temperature: float | None = 0.0,
        max_output_tokens: int | None = None,
        response_mode: ResponseMode | None = None,
        client: Any = None,
    ) -> None:
        self._model = model
        self.repair_attempts = repair_attempts
        self.image_format = image_format
        self.image_detail = image_detail
        self.temperature = temperature
        self.max_output_tokens = max_output_tokens
        """Overrides every request's own budget when set (--max-output-tokens)."""
        if response_mode is not None and response_mode not in MODES:
            raise UsageError(f"unknown response mode {response_mode!r}: use {', '.join(MODES)}")
        self.forced_mode = response_mode
        self._modes = (response_mode,) if response_mode else MODES
        self._mode_index = 0
        self._confirmed = False
        """A reply came back in the current mode: its failures are real, retry them."""
        self._max_retries = max_retries
        self._token_param = "max_tokens"
        self._key = ""
        """The key, to scrub from error text a server may echo it in (shown live, recorded)."""
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.base_url = base_url or (azure_endpoint or DEFAULT_BASE_URL)
        self._client = client if client is not None else self._make_client(
            base_url, api_key, api_key_env, azure_endpoint, azure_api_version, timeout
        )

    def _make_client(self, base_url: str | None, api_key: str | None, api_key_env: str,
                     azure_endpoint: str | None, azure_api_version: str | None,
                     timeout: float) -> Any:
        key = api_key or os.environ.get(api_key_env)
        self._key = key if key and len(key) >= 8 else ""
        if not key:
            if azure_endpoint or not base_url or base_url.rstrip("/") == DEFAULT_BASE_URL:
                raise UsageError(
                    f"no API key: set {api_key_env} (or --api-key-env NAME), "
                    "or point --base-url at a local OpenAI-compatible server"
                )
            key = "not-needed"  # local servers accept any key; the client insists on one
        if azure_endpoint:
            return openai.AzureOpenAI(
                azure_endpoint=azure_endpoint, api_version=azure_api_version or "2024-10-21",
                api_key=key, timeout=timeout, max_retries=self._max_retries,
            )
        return openai.OpenAI(
            base_url=base_url, api_key=key, timeout=timeout, max_retries=self._max_retries
        )

    @property
    def model_name(self) -> str:
        return self._model

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if callable(close):
            close()

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
                {"type": "image_url",
                 "image_url": {"url": data_url(image, self.image_format),
                               "detail": self.image_detail}}
                for image in request.images
            )
        return [{"role": "system", "content": system}, {"role": "user", "content": content}]

    def _kwargs(self, request: ModelRequest, messages: list[dict[str, Any]],
                mode: ResponseMode) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self._model, "messages": messages}
        fmt = response_format(request, mode)
        if fmt is not None:
            kwargs["response_format"] = fmt
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        kwargs[self._token_param] = self._reply_budget(request)
        return kwargs

    def _reply_budget(self, request: ModelRequest) -> int:
        return self.max_output_tokens or request.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS

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
        except (openai.InternalServerError, openai.RateLimitError,
                openai.APIConnectionError) as exc:
            if self._meaning(exc, kwargs) is not None:
                raise
            time.sleep(_retry_pause(exc))
        return with_options(max_retries=self._max_retries - 1).chat.completions.create(**kwargs)

    def _meaning(self, exc: Exception, kwargs: dict[str, Any]) -> Any:
        images = any(isinstance(m["content"], list) for m in kwargs["messages"])
        return classify(getattr(exc, "status_code", None), error_text(exc),
                        has_format="response_format" in kwargs, has_images=images)

    def _request(self, request: ModelRequest, messages_for: Any, prompt: str
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
                message = self._failure_message(exc, meaning, mode)
                if self._key:
                    message = message.replace(self._key, "[redacted:api_key]")
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

    def _failed_call(self, request: ModelRequest, mode: ResponseMode, prompt: str,
                     error: str, latency_ms: float) -> ModelCall:
        return ModelCall(
            module=request.module, model=self._model, response_mode=mode, prompt=prompt,
            images=len(request.images), error=error, latency_ms=round(latency_ms, 2),
            request_failed=True,
        )

    def _failure_message(self, exc: Exception, meaning: Any, mode: ResponseMode) -> str:
        """One line saying what failed and what to do."""
        status = getattr(exc, "status_code", None)
        if meaning == "format":
            if self.forced_mode is not None:
                return (f"the model server refused --response-mode {mode} ({status}): "
                        f"{_short(exc)}; try another mode or leave the option out")
            if self._mode_index + 1 < len(self._modes):
                nxt = self._modes[self._mode_index + 1]
                return f"the server refused {mode} ({status}): {_short(exc)}; trying {nxt}"
            return f"the model server rejected the request ({status}): {_short(exc)}"
        if meaning == "image":
            return (f"the model server at {self.base_url} failed on a request with an image "
                    f"({status}): {_short(exc)}; if the model has no image input, run with "
                    "--no-vision")
        if meaning == "token_param":
            return f"the server wants max_completion_tokens ({status}): retrying with it"
        return _transport_message(exc, self.base_url, self._model)

    # ------------------------------------------------------------------ the reply

    def complete(self, request: ModelRequest) -> ModelReply:
        calls: list[ModelCall] = []
        repair: list[dict[str, Any]] = []
        last_error: ModelReplyError | None = None
        for _attempt in range(1 + self.repair_attempts):
            prompt = prompt_record(request) + (
                REPAIR_MARK + repair[-1]["content"] if repair else "")

            def messages_for(mode: ResponseMode, tail: list = repair) -> list[dict[str, Any]]:
                return [*self._messages(request, mode), *tail]

            try:
                response, mode, latency_ms, failed = self._request(request, messages_for, prompt)
            except ModelUnavailableError as exc:
                raise ModelUnavailableError(str(exc), calls=(*calls, *exc.calls)) from None
            calls.extend(failed)
            text = _reply_text(response)
            usage = getattr(response, "usage", None)
            call = ModelCall(
                module=request.module, model=self._model, response_mode=mode, prompt=prompt,
                images=len(request.images), reply=text,
                input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                latency_ms=round(latency_ms, 2),
            )
            try:
                output = parse_reply(text, request.output_model)
            except ModelReplyError as exc:
                if _finish_reason(response) == "length":
                    exc = ModelReplyError(
                        f"{exc} (cut off at {self._reply_budget(request)} tokens: raise "
                        "--max-output-tokens)", reply=text)
                calls.append(call.model_copy(update={"error": str(exc)}))
                last_error = exc
                repair = repair_messages(text, str(exc))
                continue
            calls.append(call)
            return ModelReply(output=output, calls=tuple(calls))
        assert last_error is not None
        raise ModelReplyError(
            f"{request.module}: {last_error} (after {len(calls)} attempt(s))",
            reply=last_error.reply,
            calls=tuple(calls),
        )


def repair_messages(reply: str, error: str) -> list[dict[str, Any]]:
    """The unusable reply as the assistant's turn, then the error and a request for the
    object alone. The schema is not repeated: it is already in the conversation (or enforced
    by the server), and a small model shown it again tends to echo it back."""
    echoed = '"properties"' in reply and '"type"' in reply
    note = (
        "That was the JSON schema itself, not an answer. " if echoed else ""
    ) + (
        f"Your reply was not usable: {error}. Send the corrected JSON object now, with your "
        "own values: only the object, no schema, no explanation."
    )
    shown = reply if len(reply) <= _ECHO_LIMIT else reply[:_ECHO_LIMIT] + "..."
    return [{"role": "assistant", "content": shown or "(empty reply)"},
            {"role": "user", "content": note}]


def _transport_message(exc: Exception, base_url: str, model: str) -> str:
    """What a failure that is not a refused request shape means for the user."""
    messages: list[tuple[type[BaseException], str]] = [
        (openai.AuthenticationError,
         "the model service refused the API key (401): check the key variable"),
        (openai.PermissionDeniedError, f"the model service denied access (403): {_short(exc)}"),
        (openai.NotFoundError, f"model {model!r} or endpoint not found at {base_url} (404): "
                               "check --model and --base-url"),
        (openai.APITimeoutError, f"the model server at {base_url} did not answer in time; "
                                 "is it overloaded? raise --timeout or try later"),
        (openai.RateLimitError,
         f"rate limited by the model service (429) after retries: {_short(exc)}"),
        (openai.InternalServerError, f"the model server failed "
         f"({getattr(exc, 'status_code', '5xx')}) after retries: {_short(exc)}"),
    ]
    for kind, message in messages:
        if isinstance(exc, kind):
            return message
    if isinstance(exc, openai.APIConnectionError):
        if type(exc.__cause__).__name__ not in ("ConnectError", "ConnectTimeout"):
            return (f"the connection to the model server at {base_url} broke "
                    f"({_short(exc.__cause__ or exc)}) after retries; is it overloaded?")
        return f"cannot reach the model server at {base_url}: is it running? check --base-url"
    if isinstance(exc, openai.APIStatusError):
        return f"the model server answered {exc.status_code}: {_short(exc)}"
    # A body that is not JSON (json.JSONDecodeError is a ValueError) or not a chat completion:
    # the server is not speaking the API.
    return (f"the model server at {base_url} sent a response that is not a chat completion "
            f"({type(exc).__name__}): is --base-url an OpenAI-compatible /v1?")


def _retry_pause(exc: Exception) -> float:
    """Seconds before sending again: the server's Retry-After (at most a minute), else the
    client's first back-off."""
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("retry-after", "") if response else ""
    try:
        return min(max(float(value), 0.0), 60.0)
    except ValueError:
        return 0.5


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
    refusal = getattr(message, "refusal", None)
    if refusal:
        return ""
    return getattr(message, "content", None) or ""


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(getattr(exc, "message", exc)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
