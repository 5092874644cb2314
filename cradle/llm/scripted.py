"""A scripted model: a queue of replies, for tests and the offline demo.

It goes through the same validation as a real reply, so a script with a typo fails the same
way a real model's bad reply would. When the queue runs out it fails loudly instead of
inventing an answer.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from cradle.errors import ModelReplyError, ScriptExhaustedError
from cradle.llm.base import ModelReply, ModelRequest, prompt_record
from cradle.llm.schema import parse_reply
from cradle.types import ModelCall

Reply = str | Mapping[str, Any] | BaseModel | Callable[[ModelRequest], Any]


def _as_text(reply: Any) -> str:
    if isinstance(reply, BaseModel):
        return reply.model_dump_json()
    if isinstance(reply, Mapping):
        return json.dumps(reply)
    return str(reply)


class ScriptedModel:
    """Answers requests from a script instead of a model.

    ``replies`` is either one queue used in order for every request, or a mapping from module
    name (``action_planning``, ``fused``, ...) to that module's own queue. A reply may be JSON
    text, a dict, a pydantic object, or a callable that receives the request (to react to
    what the module was asked).
    """

    def __init__(
        self,
        replies: Iterable[Reply] | Mapping[str, Iterable[Reply]],
        *,
        name: str = "scripted",
    ) -> None:
        self._name = name
        if isinstance(replies, Mapping):
            self._queues: dict[str, deque[Reply]] | None = {
                module: deque(queue) for module, queue in replies.items()
            }
            self._queue: deque[Reply] = deque()
        else:
            self._queues = None
            self._queue = deque(replies)
        self.requests: list[ModelRequest] = []

    @property
    def model_name(self) -> str:
        return self._name

    def close(self) -> None:
        return None

    def remaining(self, module: str | None = None) -> int:
        """Replies left (for ``module``, when the script is per module)."""
        if self._queues is None:
            return len(self._queue)
        if module is None:
            return sum(len(q) for q in self._queues.values())
        return len(self._queues.get(module, ()))

    def _next(self, module: str) -> Reply:
        queue = self._queue if self._queues is None else self._queues.get(module, deque())
        if not queue:
            raise ScriptExhaustedError(
                f"the scripted model has no reply left for {module!r} "
                f"(request {len(self.requests)}); add replies to the script"
            )
        return queue.popleft()

    def complete(self, request: ModelRequest) -> ModelReply:
        self.requests.append(request)
        reply = self._next(request.module)
        if callable(reply) and not isinstance(reply, BaseModel):
            reply = reply(request)
        text = _as_text(reply)
        call = ModelCall(
            module=request.module,
            model=self._name,
            response_mode="scripted",
            prompt=prompt_record(request),
            images=len(request.images),
            reply=text,
        )
        try:
            output = parse_reply(text, request.output_model)
        except ModelReplyError as exc:
            raise ModelReplyError(
                f"{request.module}: {exc}",
                reply=text,
                calls=(call.model_copy(update={"error": str(exc)}),),
            ) from None
        return ModelReply(output=output, calls=(call,))
