"""What the computer-use API planners share: one request per step, call ids, results, records.

Anthropic's computer tool and OpenAI's computer-use model work alike: the model answers with
calls (``tool_use`` / ``computer_call``), each with an id; the next request must answer every
id with the screen after the action (``tool_result`` / ``computer_call_output``). A planner
here keeps those ids between steps (``Pending``), turns each call into skill calls (through
:func:`cradle.computer_use.actions.to_skill_calls`, so every action passes the same parser,
policy, confirmation, dry run and secrets as any plan) and, on the next step, tells the model
per id what happened (the step's outcomes, sliced by how many skill calls each id became).

Every request is recorded as a ``ModelCall`` (``response_mode="computer_tool"``): the text
sent (images as a note), the native reply JSON (which never holds an image), usage and
latency, and the error when the reply was unusable; the replayed planner
(:mod:`cradle.computer_use.replayed`) re-reads those replies with the same parsers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

from cradle.computer_use.actions import NativeAction, to_image_point, to_skill_calls
from cradle.computer_use.base import PlanInput, PlanOutput
from cradle.errors import ModelError, ModelReplyError, ModelUnavailableError
from cradle.types import ActionOutcome, ActionPlan, ModelCall

MODULE = "computer_use"
"""The module name of a planner's calls in the step record."""
RESPONSE_MODE = "computer_tool"
MAX_CALLS = 16
"""Calls read from one reply; more is a runaway, not a plan."""
MAX_RESULT_TEXT = 1000
"""Characters of one action's result told back to the model."""
DEFAULT_MAX_OUTPUT_TOKENS = 1024

SafetyGate = Callable[[str], bool]
"""Asks the user about a safety check the model raised; True means go ahead."""


class SafetyCheckDeclined(ModelError):
    """The model raised a safety check and the user did not agree: nothing was run."""

    def __init__(self, message: str, *, calls: tuple = ()):
        self.calls = calls
        super().__init__(message)


@dataclass(frozen=True)
class NativeCall:
    """One call of the model's reply: its id and the actions it asks for."""

    call_id: str
    actions: tuple[NativeAction, ...]
    safety_checks: tuple[dict[str, str], ...] = ()
    """OpenAI's pending safety checks (id, code, message) on this call."""


@dataclass(frozen=True)
class Parsed:
    """A reply read: its calls, the model's own words, whether it considers the task done."""

    calls: tuple[NativeCall, ...]
    reasoning: str
    done: bool


@dataclass
class Pending:
    """A call the next request must answer: how many skill calls it became, or why none ran."""

    call_id: str
    count: int = 0
    error: str = ""
    acknowledged: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Result:
    """What one call did, as the next request tells the model."""

    call_id: str
    ok: bool
    text: str
    acknowledged: tuple[dict[str, str], ...] = ()


def point(value: Any, image_size: tuple[int, int], raw: str) -> tuple[int, int]:
    """A model's ``[x, y]`` (pixels of the image it was shown); malformed or off the image is
    a ModelReplyError the model reads next step."""
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise ModelReplyError(f"malformed coordinate {value!r} in {raw[:200]!r}: want [x, y]")
    return to_image_point(float(value[0]), float(value[1]), "absolute", image_size)


def number(value: Any, what: str, raw: str, default: float | None = None) -> float:
    """A numeric field of an action; missing takes ``default`` (None: required)."""
    if value is None and default is not None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        raise ModelReplyError(f"{what} must be a number, got {value!r} in {raw[:200]!r}")
    return float(value)


def build_plan(parsed: Parsed) -> tuple[ActionPlan, list[Pending], tuple[str, ...]]:
    """The plan of skill calls, the ids to answer next step, and the native actions as text."""
    if len(parsed.calls) > MAX_CALLS:
        raise ModelReplyError(f"{len(parsed.calls)} calls in one reply (at most {MAX_CALLS})")
    sources: list[str] = []
    pending: list[Pending] = []
    for call in parsed.calls:
        calls = [source for action in call.actions for source in to_skill_calls(action)]
        sources.extend(calls)
        pending.append(Pending(call.call_id, len(calls)))
    native = tuple(action.raw for call in parsed.calls for action in call.actions)
    plan = ActionPlan(
        reasoning=parsed.reasoning, actions=sources, done=parsed.done and not parsed.calls
    )
    return plan, pending, native


def results(pending: Sequence[Pending], outcomes: Sequence[ActionOutcome]) -> list[Result]:
    """Per pending id, what its skill calls did (the step's outcomes, in plan order)."""
    found: list[Result] = []
    start = 0
    for item in pending:
        if item.error:
            found.append(Result(item.call_id, False, item.error[:MAX_RESULT_TEXT]))
            continue
        mine = list(outcomes[start : start + item.count])
        start += item.count
        failed = [o for o in mine if o.status not in ("ok", "planned")]
        if len(mine) < item.count and not failed:
            failed_text = "not run (the step ended before this action)"
            found.append(Result(item.call_id, False, failed_text))
            continue
        text = (
            "; ".join(f"{o.source}: {o.status}: {o.error}" for o in failed)
            if failed
            else (
                "planned only (dry run: no input was sent)"
                if any(o.status == "planned" for o in mine)
                else "ok"
            )
        )
        found.append(Result(item.call_id, not failed, text[:MAX_RESULT_TEXT], item.acknowledged))
    return found


def feedback(given: PlanInput) -> str:
    """What the model is told besides the screenshot: the subtask, the environment's notes."""
    lines = [f"Current subtask: {given.subtask}"] if given.subtask else []
    lines.extend(f"Note: {note}" for note in given.notes[:10])
    return "\n".join(line[:MAX_RESULT_TEXT] for line in lines)


def reply_json(reply: dict[str, Any]) -> str:
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Exchange:
    """One request as built by a planner: what to send and its record text."""

    kwargs: dict[str, Any]
    prompt: str
    state: Any = None
    """Whatever the planner commits to its conversation once the reply came back."""
    extra: dict[str, Any] = field(default_factory=dict)


class NativePlanner:
    """Base of the computer-use API planners. Subclasses set ``_sdk`` and implement
    ``_exchange`` (the request for this step), ``_create`` (send it), ``parse`` (a reply as
    a dict), ``call_ids`` (ids in a reply, tolerantly) and ``_commit`` (keep the turn)."""

    name = "computer-use"
    _what = "a computer-use reply"
    _record_keys: tuple[str, ...] = ()
    """The reply's fields kept (recorded, parsed, replayed)."""

    def __init__(
        self, *, model: str, base_url: str, api_key_env: str, safety_gate: SafetyGate | None = None
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.safety_gate = safety_gate
        self._pending: list[Pending] = []
        self._notice = ""
        self._key = ""
        self._client: Any = None
        self._sdk: ModuleType

    # ------------------------------------------------------------------ hooks

    def _exchange(self, given: PlanInput, done: list[Result]) -> Exchange:
        raise NotImplementedError

    def _create(self, exchange: Exchange) -> Any:
        raise NotImplementedError

    def parse(self, reply: dict[str, Any], image_size: tuple[int, int]) -> Parsed:
        raise NotImplementedError

    def call_ids(self, reply: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def _commit(self, exchange: Exchange, reply: dict[str, Any]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ one step

    def plan(self, given: PlanInput) -> PlanOutput:
        if self._notice:  # an unusable reply with no call to answer: said in words instead
            given = replace(given, notes=(self._notice, *given.notes))
            self._notice = ""
        exchange = self._exchange(given, results(self._pending, given.previous))
        reply, call = self._send(exchange)
        self._commit(exchange, reply)  # the model's turn is part of the conversation now
        try:
            parsed = self.parse(reply, given.image.size)
            plan, pending, native = build_plan(parsed)
            self._check_safety(parsed, pending)
        except (ModelReplyError, SafetyCheckDeclined) as exc:
            self._pending = [Pending(i, error=f"not run: {exc}") for i in self.call_ids(reply)]
            if not self._pending:
                self._notice = f"Your last reply could not be used: {str(exc)[:MAX_RESULT_TEXT]}"
            failed = call.model_copy(update={"error": str(exc)})
            kind = type(exc)
            if kind is ModelReplyError:
                raise ModelReplyError(
                    f"{MODULE}: {exc}", reply=call.reply, calls=(failed,)
                ) from None
            raise SafetyCheckDeclined(str(exc), calls=(failed,)) from None
        self._pending = pending
        return PlanOutput(plan=plan, calls=(call,), native=native)

    def _send(self, exchange: Exchange) -> tuple[dict[str, Any], ModelCall]:
        from cradle.llm.sdk_provider import transport_message

        started = time.perf_counter()
        try:
            response = self._create(exchange)
        except (self._sdk.APIError, ValueError) as exc:
            latency = round((time.perf_counter() - started) * 1000, 2)
            message = transport_message(
                exc, self._sdk, self.base_url, self.model, self.api_key_env, self._what
            )
            if self._key:
                message = message.replace(self._key, "[redacted:api_key]")
            failed = ModelCall(
                module=MODULE,
                model=self.model,
                response_mode=RESPONSE_MODE,
                prompt=exchange.prompt,
                images=1,
                error=message,
                latency_ms=latency,
                request_failed=True,
            )
            raise ModelUnavailableError(message, calls=(failed,)) from None
        latency = round((time.perf_counter() - started) * 1000, 2)
        dumped = response.model_dump(mode="json", exclude_none=True)
        # What parsing, the conversation and replay read: the API's echo of the request
        # (tools, instructions) would only crowd the record, which is bounded.
        reply = {k: dumped[k] for k in self._record_keys if k in dumped}
        tokens_in, tokens_out = self._usage(response)
        call = ModelCall(
            module=MODULE,
            model=self.model,
            response_mode=RESPONSE_MODE,
            prompt=exchange.prompt,
            images=1,
            reply=reply_json(reply),
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            latency_ms=latency,
        )
        return reply, call

    def _usage(self, response: Any) -> tuple[int, int]:
        """(input, output) tokens the reply reports."""
        usage = getattr(response, "usage", None)
        return (
            int(getattr(usage, "input_tokens", 0) or 0),
            int(getattr(usage, "output_tokens", 0) or 0),
        )

    def _check_safety(self, parsed: Parsed, pending: list[Pending]) -> None:
        """Every safety check goes to the user; all agreed: acknowledged with the next output."""
        for call, item in zip(parsed.calls, pending, strict=True):
            if not call.safety_checks:
                continue
            for check in call.safety_checks:
                message = check.get("message") or check.get("code") or "a safety check"
                action = call.actions[0].raw[:120] if call.actions else "the model's action"
                # The confirmer asks "run <question>? [y/N]".
                question = f"{action} although the model warns: {message[:300]}"
                if self.safety_gate is None or not self.safety_gate(question):
                    raise SafetyCheckDeclined(
                        f"the model raised a safety check ({check.get('code') or 'unnamed'}: "
                        f"{message[:200]}) and it was not confirmed; nothing was run (confirm "
                        "it when asked, or pass --confirm never to accept such checks)"
                    )
            item.acknowledged = call.safety_checks

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if callable(close):
            close()
