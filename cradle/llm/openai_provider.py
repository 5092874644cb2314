"""The model provider for OpenAI, Azure OpenAI and every OpenAI-compatible server.

vLLM, Ollama, LM Studio and llama.cpp's server all speak the chat completions API; only the
base URL differs. Structured outputs are tried first (``json_schema``); servers that refuse
them get ``json_object`` and then plain JSON with the schema in the prompt. The first mode a
server accepts is remembered for the rest of the run, so the fallback costs one request once.
"""

from __future__ import annotations

import os
import time
from typing import Any

import openai

from cradle.errors import ModelReplyError, ModelUnavailableError, UsageError
from cradle.llm.base import ModelReply, ModelRequest, prompt_record
from cradle.llm.images import ImageFormat, data_url
from cradle.llm.schema import parse_reply, schema_instructions, schema_name, strict_schema
from cradle.types import ModelCall, ResponseMode

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_MODES: tuple[ResponseMode, ...] = ("json_schema", "json_object", "prompt")


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
        client: Any = None,
    ) -> None:
        self._model = model
        self.repair_attempts = repair_attempts
        self.image_format = image_format
        self.image_detail = image_detail
        self.temperature = temperature
        self._mode_index = 0
        self._send_ms = 0.0
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.base_url = base_url or (azure_endpoint or DEFAULT_BASE_URL)
        if client is not None:
            self._client = client
            return
        key = api_key or os.environ.get(api_key_env)
        if not key:
            if azure_endpoint or not base_url or base_url.rstrip("/") == DEFAULT_BASE_URL:
                raise UsageError(
                    f"no API key: set {api_key_env} (or --api-key-env NAME), "
                    "or point --base-url at a local OpenAI-compatible server"
                )
            key = "not-needed"  # local servers accept any key; the client insists on one
        if azure_endpoint:
            self._client = openai.AzureOpenAI(
                azure_endpoint=azure_endpoint,
                api_version=azure_api_version or "2024-10-21",
                api_key=key,
                timeout=timeout,
                max_retries=max_retries,
            )
        else:
            self._client = openai.OpenAI(
                base_url=base_url, api_key=key, timeout=timeout, max_retries=max_retries
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
        return _MODES[self._mode_index]

    # ------------------------------------------------------------------ request building

    def _messages(self, request: ModelRequest, mode: ResponseMode) -> list[dict[str, Any]]:
        system = request.system
        if mode != "json_schema":
            system = f"{system}\n\n{schema_instructions(request.output_model)}"
        content: list[dict[str, Any]] = [{"type": "text", "text": request.user}]
        for image in request.images:
            content.append(
                {
                    "type": "image_url",
                    "image_url": {
                        "url": data_url(image, self.image_format),
                        "detail": self.image_detail,
                    },
                }
            )
        return [{"role": "system", "content": system}, {"role": "user", "content": content}]

    def _response_format(self, request: ModelRequest, mode: ResponseMode) -> dict[str, Any] | None:
        if mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {
                    "name": schema_name(request.output_model),
                    "schema": strict_schema(request.output_model),
                    "strict": True,
                },
            }
        if mode == "json_object":
            return {"type": "json_object"}
        return None

    # ------------------------------------------------------------------ calling

    def _send(
        self, messages: list[dict[str, Any]], response_format: dict[str, Any] | None
    ) -> Any:
        kwargs: dict[str, Any] = {"model": self._model, "messages": messages}
        if response_format is not None:
            kwargs["response_format"] = response_format
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        try:
            return self._client.chat.completions.create(**kwargs)
        except openai.AuthenticationError:
            raise ModelUnavailableError(
                "the model service refused the API key (401): check the key variable"
            ) from None
        except openai.PermissionDeniedError as exc:
            raise ModelUnavailableError(
                f"the model service denied access (403): {_short(exc)}"
            ) from None
        except openai.NotFoundError:
            raise ModelUnavailableError(
                f"model {self._model!r} or endpoint not found at {self.base_url} (404): "
                "check --model and --base-url"
            ) from None
        except openai.APITimeoutError:
            raise ModelUnavailableError(
                f"the model server at {self.base_url} did not answer in time; "
                "is it overloaded? raise --timeout or try later"
            ) from None
        except openai.APIConnectionError as exc:
            if type(exc.__cause__).__name__ not in ("ConnectError", "ConnectTimeout"):
                raise ModelUnavailableError(
                    f"the connection to the model server at {self.base_url} broke "
                    f"({_short(exc.__cause__ or exc)}) after retries; is it overloaded?"
                ) from None
            raise ModelUnavailableError(
                f"cannot reach the model server at {self.base_url}: is it running? "
                "check --base-url"
            ) from None
        except openai.RateLimitError as exc:
            raise ModelUnavailableError(
                f"rate limited by the model service (429) after retries: {_short(exc)}"
            ) from None
        except openai.InternalServerError as exc:
            raise ModelUnavailableError(
                f"the model server failed ({exc.status_code}) after retries: {_short(exc)}"
            ) from None
        except (openai.BadRequestError, openai.UnprocessableEntityError):
            raise  # the caller falls back to a simpler response format
        except openai.APIStatusError as exc:
            raise ModelUnavailableError(
                f"the model server answered {exc.status_code}: {_short(exc)}"
            ) from None
        except (openai.OpenAIError, ValueError) as exc:
            # A body that is not JSON (json.JSONDecodeError is a ValueError) or not a chat
            # completion: the server is not speaking the API.
            raise ModelUnavailableError(
                f"the model server at {self.base_url} sent a response that is not a chat "
                f"completion ({type(exc).__name__}): is --base-url an OpenAI-compatible /v1?"
            ) from None

    def _send_with_fallback(
        self, request: ModelRequest, messages_for: Any
    ) -> tuple[Any, ResponseMode]:
        """Send in the remembered mode; on a 400/422 try the next, simpler mode."""
        while True:
            mode = _MODES[self._mode_index]
            messages, response_format = messages_for(mode), self._response_format(request, mode)
            # The model's own time is the request on the wire, not the encoding before it.
            started = time.perf_counter()
            try:
                return self._send(messages, response_format), mode
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if self._mode_index + 1 >= len(_MODES):
                    raise ModelUnavailableError(
                        f"the model server rejected the request ({exc.status_code}): {_short(exc)}"
                    ) from None
                self._mode_index += 1
            finally:
                self._send_ms = (time.perf_counter() - started) * 1000

    def complete(self, request: ModelRequest) -> ModelReply:
        calls: list[ModelCall] = []
        repair_note = ""
        last_error: ModelReplyError | None = None
        for _attempt in range(1 + self.repair_attempts):

            def messages_for(mode: ResponseMode, note: str = repair_note) -> list[dict[str, Any]]:
                messages = self._messages(request, mode)
                if note:
                    messages.append({"role": "user", "content": note})
                return messages

            response, mode = self._send_with_fallback(request, messages_for)
            latency_ms = self._send_ms
            text = _reply_text(response)
            usage = getattr(response, "usage", None)
            call = ModelCall(
                module=request.module,
                model=self._model,
                response_mode=mode,
                prompt=prompt_record(request)
                + (f"\n[repair]\n{repair_note}" if repair_note else ""),
                images=len(request.images),
                reply=text,
                input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                latency_ms=round(latency_ms, 2),
            )
            try:
                output = parse_reply(text, request.output_model)
            except ModelReplyError as exc:
                calls.append(call.model_copy(update={"error": str(exc)}))
                last_error = exc
                repair_note = (
                    f"Your previous reply was not usable: {exc}. Reply again with one JSON "
                    f"object that fits the {request.output_model.__name__} schema."
                )
                continue
            calls.append(call)
            return ModelReply(output=output, calls=tuple(calls))
        assert last_error is not None
        raise ModelReplyError(
            f"{request.module}: {last_error} (after {len(calls)} attempt(s))",
            reply=last_error.reply,
            calls=tuple(calls),
        )


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


def _short(exc: Exception, limit: int = 200) -> str:
    text = " ".join(str(getattr(exc, "message", exc)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
