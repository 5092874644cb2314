"""A model that answers with the replies recorded in a run: any run becomes a regression test.

The recorded model calls are grouped into requests (a request is its first call plus the repair
calls that followed it, marked ``[repair]`` in the recorded prompt). Each new request must come
from the same module as the next recorded one; its reply is validated against the request's
output model exactly like a live reply. Requests that failed before any reply came back (a
refused response format, an HTTP error) are recorded too, but have nothing to replay.
A request from another module, or one more request than were recorded, fails loudly: the
loop changed, and the recording no longer describes it.
A recorded request whose every attempt was unusable is replayed as the same ``ModelReplyError``,
so a run that once recovered from a bad reply recovers again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cradle.errors import ModelError, ModelReplyError, ScriptExhaustedError
from cradle.llm.base import REPAIR_MARK, ModelReply, ModelRequest, prompt_record
from cradle.types import ModelCall, StepRecord

if TYPE_CHECKING:
    from cradle.trajectory.loader import LoadedRun

PLANNER_MODULE = "computer_use"
"""The module name of a planner's calls (``cradle.computer_use``), not replayed here."""
GROUNDING_MODULE = "grounding"
"""The module name of a grounding model's calls (``cradle.computer_use.grounding``)."""


class ReplayMismatchError(ModelError):
    """The loop asked a different module than the recording has at this point."""


@dataclass(frozen=True)
class RecordedRequest:
    """One recorded request: the step it belonged to and its calls (repairs included)."""

    step: int
    calls: tuple[ModelCall, ...]

    @property
    def module(self) -> str:
        return self.calls[0].module

    @property
    def answer(self) -> ModelCall | None:
        """The call whose reply was used; None when every attempt was unusable."""
        last = self.calls[-1]
        return None if last.error else last


def group_requests(steps: Iterable[StepRecord]) -> list[RecordedRequest]:
    """Recorded calls of every step, grouped into the requests that produced them."""
    requests: list[RecordedRequest] = []
    for record in steps:
        current: list[ModelCall] = []
        for call in record.model_calls:
            if call.request_failed:
                continue  # no reply came back (refused format, HTTP error): nothing to replay
            if call.module == PLANNER_MODULE:
                continue  # a planner's reply: cradle.computer_use.replayed plays those back
            if call.module == GROUNDING_MODULE:
                continue  # a grounding model's reply: replayed by its grounder (skills ask it)
            is_repair = REPAIR_MARK in call.prompt and current and current[-1].module == call.module
            if current and not is_repair:
                requests.append(RecordedRequest(record.step, tuple(current)))
                current = []
            current.append(call)
        if current:
            requests.append(RecordedRequest(record.step, tuple(current)))
    return requests


class ReplayedModel:
    """A ``ModelProvider`` that plays back the model replies of a recorded run, in order."""

    def __init__(self, steps: Iterable[StepRecord], *, name: str = "replayed") -> None:
        self._requests = group_requests(steps)
        self._next = 0
        self._name = name
        self.prompt_changes: list[tuple[int, str]] = []
        """(request index, module) of requests whose prompt differs from the recorded one."""

    @classmethod
    def from_run(cls, run: LoadedRun) -> ReplayedModel:
        """Named after the recorded model, so reports show where the replies came from."""
        return cls(run.steps, name=f"replayed:{run.info.model}")

    @property
    def model_name(self) -> str:
        return self._name

    def close(self) -> None:
        return None

    def remaining(self) -> int:
        """Recorded requests not yet answered."""
        return len(self._requests) - self._next

    def complete(self, request: ModelRequest) -> ModelReply:
        index = self._next
        if index >= len(self._requests):
            raise ScriptExhaustedError(
                f"the recording has no reply left for {request.module!r} "
                f"(all {len(self._requests)} recorded request(s) were used)"
            )
        recorded = self._requests[index]
        if recorded.module != request.module:
            raise ReplayMismatchError(
                f"replay diverged at model request {index + 1}: the loop asked "
                f"{request.module!r}, the recording has {recorded.module!r} (step {recorded.step})"
            )
        self._next += 1
        prompt = prompt_record(request)
        if prompt != recorded.calls[0].prompt:
            self.prompt_changes.append((index, request.module))
        calls = tuple(
            ModelCall(
                module=request.module,
                model=self._name,
                response_mode="scripted",
                prompt=prompt + (REPAIR_MARK + "(replayed)" if n else ""),
                images=len(request.images),
                reply=call.reply,
                error=call.error,
            )
            for n, call in enumerate(recorded.calls)
        )
        answer = recorded.answer
        if answer is None:
            raise ModelReplyError(
                f"{request.module}: {recorded.calls[-1].error} (replayed)",
                reply=recorded.calls[-1].reply,
                calls=calls,
            )
        from cradle.llm.schema import parse_reply

        try:
            output = parse_reply(answer.reply, request.output_model)
        except ModelReplyError as exc:
            # The recorded reply fit the schema then; it does not now: the output model changed.
            raise ReplayMismatchError(
                f"recorded reply for {request.module!r} (step {recorded.step}) no longer fits "
                f"{request.output_model.__name__}: {exc}"
            ) from None
        return ModelReply(output=output, calls=calls)
