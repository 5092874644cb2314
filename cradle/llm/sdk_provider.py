"""What every provider built on a vendor SDK shares: the repair loop, records and error text.

The OpenAI (chat completions and Responses) and Anthropic providers differ in how they ask for
structured output and how a repair is phrased, not in what happens around it: every answered
request becomes a ``ModelCall`` (prompt without image bytes, reply, usage, latency), every
request that fails before a reply is recorded with its error and latency, an unusable reply
gets ``repair_attempts`` more tries, a refusal ends the request at once, and a failure of the
service becomes one line that says what to do (the key variable named, never the key). A
provider supplies ``_send`` (one request); the JSON-text replies of the OpenAI APIs share
``_parse`` and ``_repair`` here and differ only in how a reply says it was cut off
(``_cut_off``); a provider whose answer is not JSON text (Anthropic's tool call) overrides them.

Budgets, redaction, recording and replay live above the provider (the loop reads
``ModelCall.input_tokens``/``output_tokens`` whatever the API), so they are the same for all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from cradle.errors import ModelReplyError, ModelUnavailableError, UsageError
from cradle.llm.base import REPAIR_MARK, ModelReply, ModelRequest, prompt_record
from cradle.llm.schema import parse_reply
from cradle.types import ModelCall

DEFAULT_MAX_OUTPUT_TOKENS = 1024
"""The reply budget of a request that names none (modules name their own)."""
ECHO_LIMIT = 2000
"""Characters of an unusable reply sent back with the repair request."""


@dataclass
class Sent:
    """One answered request: its record, the failed requests before it, its reply."""

    call: ModelCall
    text: str
    """The reply as recorded and replayed: JSON text of the structured answer."""
    raw: Any = None
    failed: list[ModelCall] = field(default_factory=list)
    refusal: str = ""
    """The model declined to answer (a safety refusal): asking again would not help."""


def resolve_key(explicit: str | None, env_name: str, *, needed: bool, local_hint: str) -> str:
    """The API key from ``explicit`` or the variable ``env_name``; one usage error naming the
    variable when a key is ``needed`` and unset ("" when it is not needed)."""
    key = explicit or os.environ.get(env_name) or ""
    if not key and needed:
        raise UsageError(f"no API key: set {env_name} (or --api-key-env NAME), {local_hint}")
    return key


def short(exc: BaseException, limit: int = 200) -> str:
    """The error's message on one line, bounded: the server's own words (``error.message``
    of the body both APIs send) when there are any, not the SDK's dump of the body."""
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else None
    said = error.get("message") if isinstance(error, dict) else None
    text = " ".join(
        str(said if isinstance(said, str) and said else getattr(exc, "message", exc)).split()
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


def retry_pause(exc: Exception) -> float:
    """Seconds before sending again: the server's Retry-After (at most a minute), else the
    client's first back-off."""
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("retry-after", "") if response else ""
    try:
        return min(max(float(value), 0.0), 60.0)
    except ValueError:
        return 0.5


def transport_message(
    exc: Exception,
    sdk: ModuleType,
    base_url: str,
    model: str,
    key_env: str,
    what: str = "a chat completion",
) -> str:
    """What a failure that is not a refused request shape means for the user. ``sdk`` is the
    vendor module (``openai`` or ``anthropic``): both name their errors alike."""
    status = getattr(exc, "status_code", "5xx")
    messages: list[tuple[str, str]] = [
        (
            "AuthenticationError",
            f"the model service refused the API key (401): check {key_env} (or --api-key-env)",
        ),
        ("PermissionDeniedError", f"the model service denied access (403): {short(exc)}"),
        (
            "NotFoundError",
            f"model {model!r} or endpoint not found at {base_url} (404): "
            "check --model and --base-url",
        ),
        (
            "APITimeoutError",
            f"the model server at {base_url} did not answer in time; "
            "is it overloaded? raise --timeout or try later",
        ),
        ("RateLimitError", f"rate limited by the model service (429) after retries: {short(exc)}"),
        (
            "OverloadedError",
            f"the model service is overloaded ({status}) after retries: {short(exc)}; try later",
        ),
        ("InternalServerError", f"the model server failed ({status}) after retries: {short(exc)}"),
    ]
    for name, message in messages:
        kind = getattr(sdk, name, None)
        if kind is not None and isinstance(exc, kind):
            return message
    if isinstance(exc, sdk.APIConnectionError):
        if type(exc.__cause__).__name__ not in ("ConnectError", "ConnectTimeout"):
            return (
                f"the connection to the model server at {base_url} broke "
                f"({short(exc.__cause__ or exc)}) after retries; is it overloaded?"
            )
        return f"cannot reach the model server at {base_url}: is it running? check --base-url"
    if isinstance(exc, sdk.APIStatusError):
        return f"the model server answered {exc.status_code}: {short(exc)}"
    # A body that is not JSON (json.JSONDecodeError is a ValueError) or not of the API's shape:
    # the server is not speaking the API.
    return (
        f"the model server at {base_url} sent a response that is not {what} "
        f"({type(exc).__name__}): is --base-url right for this --provider?"
    )


class SdkProvider:
    """Base of the SDK providers: see the module docstring. Subclasses set ``_sdk`` (the
    vendor module, for error mapping) and implement ``_send`` (and ``_cut_off``, or their
    own ``_parse`` and ``_repair``)."""

    _what = "a chat completion"
    """What a reply should be, for the message when a server sends something else."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str,
        api_key_env: str,
        repair_attempts: int,
        max_output_tokens: int | None,
    ) -> None:
        self._model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.repair_attempts = repair_attempts
        self.max_output_tokens = max_output_tokens
        """Overrides every request's own budget when set (--max-output-tokens)."""
        self._key = ""
        """The key, to scrub from error text a server may echo it in (shown live, recorded)."""
        self._client: Any = None
        self._sdk: ModuleType

    @property
    def model_name(self) -> str:
        return self._model

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if callable(close):
            close()

    def _reply_budget(self, request: ModelRequest) -> int:
        return self.max_output_tokens or request.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS

    def _keep_key(self, key: str) -> None:
        self._key = key if len(key) >= 8 else ""

    def _redact(self, message: str) -> str:
        return message.replace(self._key, "[redacted:api_key]") if self._key else message

    # ------------------------------------------------------------------ calling

    def _failure_message(self, exc: Exception) -> str:
        return self._redact(
            transport_message(
                exc, self._sdk, self.base_url, self._model, self.api_key_env, self._what
            )
        )

    def _timed(
        self, send: Callable[[], Any], request: ModelRequest, mode: str, prompt: str
    ) -> tuple[Any, float]:
        """``send()`` on the wire and its latency in ms; a failure is one ModelUnavailableError
        carrying the record of the failed request."""
        started = time.perf_counter()
        try:
            return send(), (time.perf_counter() - started) * 1000
        except (self._sdk.APIError, ValueError) as exc:
            latency = (time.perf_counter() - started) * 1000
            message = self._failure_message(exc)
            failed = self._failed_call(request, mode, prompt, message, latency)
            raise ModelUnavailableError(message, calls=(failed,)) from None

    def probe(self, send: Callable[[Any], Any]) -> tuple[Any, float]:
        """``send(client)`` once, for ``cradle models check``: the response and latency, or
        ModelUnavailableError with the one-line reason (the server's own words included)."""
        started = time.perf_counter()
        try:
            return send(self._client), (time.perf_counter() - started) * 1000
        except (self._sdk.APIError, ValueError) as exc:
            raise ModelUnavailableError(self._failure_message(exc)) from None

    def _failed_call(
        self, request: ModelRequest, mode: str, prompt: str, error: str, latency_ms: float
    ) -> ModelCall:
        return ModelCall(
            module=request.module,
            model=self._model,
            response_mode=mode,  # type: ignore[arg-type]
            prompt=prompt,
            images=len(request.images),
            error=error,
            latency_ms=round(latency_ms, 2),
            request_failed=True,
        )

    # ------------------------------------------------------------------ the reply

    def _send(self, request: ModelRequest, tail: list[Any], prompt: str) -> Sent:
        """One request (with the repair ``tail`` after the prompt); raises
        ModelUnavailableError when no reply came back."""
        raise NotImplementedError

    def _cut_off(self, raw: Any) -> bool:
        """The reply stopped at its token budget (so a broken reply may only be short)."""
        return False

    def _cut_off_note(self, request: ModelRequest) -> str:
        """What a cut-off reply's error adds: the budget it hit and the flag that raises it."""
        return f" (cut off at {self._reply_budget(request)} tokens: raise --max-output-tokens)"

    def _parse(self, request: ModelRequest, sent: Sent) -> BaseModel:
        """The validated answer, or ModelReplyError saying what did not fit."""
        try:
            return parse_reply(sent.text, request.output_model)
        except ModelReplyError as exc:
            if not self._cut_off(sent.raw):
                raise
            raise ModelReplyError(f"{exc}{self._cut_off_note(request)}", reply=sent.text) from None

    def _repair(self, sent: Sent, error: str) -> tuple[list[Any], str]:
        """The conversation tail that asks again after ``error``, and its note as recorded."""
        tail = repair_messages(sent.text, error)
        return tail, tail[-1]["content"]

    def complete(self, request: ModelRequest) -> ModelReply:
        calls: list[ModelCall] = []
        tail: list[Any] = []
        note = ""
        last: ModelReplyError | None = None
        for _attempt in range(1 + self.repair_attempts):
            prompt = prompt_record(request) + (REPAIR_MARK + note if note else "")
            try:
                sent = self._send(request, tail, prompt)
            except ModelUnavailableError as exc:
                raise ModelUnavailableError(str(exc), calls=(*calls, *exc.calls)) from None
            calls.extend(sent.failed)
            if sent.refusal:
                error = f"the model refused to answer: {sent.refusal[:300]}"
                calls.append(sent.call.model_copy(update={"error": error}))
                raise ModelReplyError(
                    f"{request.module}: {error}", reply=sent.text, calls=tuple(calls)
                )
            try:
                output = self._parse(request, sent)
            except ModelReplyError as exc:
                calls.append(sent.call.model_copy(update={"error": str(exc)}))
                last = exc
                tail, note = self._repair(sent, str(exc))
                continue
            calls.append(sent.call)
            return ModelReply(output=output, calls=tuple(calls))
        assert last is not None
        raise ModelReplyError(
            f"{request.module}: {last} (after {len(calls)} attempt(s))",
            reply=last.reply,
            calls=tuple(calls),
        )


def bounded_echo(reply: str) -> str:
    """``reply`` bounded for sending back in a repair request."""
    return reply if len(reply) <= ECHO_LIMIT else reply[:ECHO_LIMIT] + "..."


def repair_messages(reply: str, error: str) -> list[dict[str, Any]]:
    """The unusable reply as the assistant's turn, then the error and a request for the
    object alone. The schema is not repeated: it is already in the conversation (or enforced
    by the server), and a small model shown it again tends to echo it back."""
    echoed = '"properties"' in reply and '"type"' in reply
    note = ("That was the JSON schema itself, not an answer. " if echoed else "") + (
        f"Your reply was not usable: {error}. Send the corrected JSON object now, with your "
        "own values: only the object, no schema, no explanation."
    )
    return [
        {"role": "assistant", "content": bounded_echo(reply) or "(empty reply)"},
        {"role": "user", "content": note},
    ]
