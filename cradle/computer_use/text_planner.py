"""What the open-GUI-model planners share: history, the request, one repair, the plan.

UI-TARS and Qwen-VL differ in their prompt and their reply grammar; everything else is the
same and lives here. Each step the model gets its instructions, the last few screenshots with
its own replies to them (older replies as text only, so a long run's requests stay bounded),
what went wrong with its last actions, and the current screenshot. Its reply is parsed into
native actions, which become ordinary skill calls (``to_skill_calls``) and so pass every gate.
A reply that cannot be used is sent back once with the reason; a second failure is the step's
``ModelReplyError``. Every request is recorded with the coordinate convention it was read in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from cradle.bounds import shorten
from cradle.computer_use.actions import NativeAction, to_skill_calls
from cradle.computer_use.base import PlanInput, PlanOutput
from cradle.computer_use.chat import ChatEndpoint, image_part
from cradle.computer_use.coordinates import Coordinates
from cradle.computer_use.keys import native_key
from cradle.errors import ModelError, ModelReplyError
from cradle.types import ActionPlan, ModelCall

MODULE = "computer_use"
"""The module name of planner requests in the step's ``model_calls``."""
MAX_TEXT_TURNS = 12
"""Past replies kept as text (the last ``history_images`` of them also with their image)."""
MAX_FEEDBACK = 1_000


def chord(names: Iterable[str]) -> tuple[str, ...]:
    """Key names as the model wrote them, in cradle's spelling; letters in a chord lower-case
    (``ctrl C`` means ctrl+c, not ctrl+shift+c)."""
    keys = tuple(native_key(name) for name in names if name)
    if len(keys) > 1:
        keys = tuple(k.lower() if len(k) == 1 and k.isalpha() else k for k in keys)
    return keys


class UserNeeded(ModelError):
    """The model stopped and asked for a person (UI-TARS ``call_user()``, Qwen ``terminate``
    with status failure): the run ends with the model's words, not as done."""

    def __init__(self, message: str, *, calls: tuple[ModelCall, ...] = ()) -> None:
        self.calls = calls
        super().__init__(message)


@dataclass(frozen=True)
class ParsedReply:
    """A reply in native actions; ``done`` holds the model's closing words when it finished."""

    thought: str
    actions: tuple[NativeAction, ...]
    done: bool = False
    asks_user: str = ""
    """Non-empty when the model gave up and asks for help: its reason."""


class TextActionPlanner:
    """Base of the UI-TARS and Qwen-VL planners; subclasses give the prompt and the parser."""

    name = "text"
    family = ""
    repair_hint = ""

    def __init__(
        self,
        endpoint: ChatEndpoint,
        coordinates: Coordinates,
        *,
        history_images: int = 3,
        max_output_tokens: int = 1024,
        repair_attempts: int = 1,
    ) -> None:
        self.endpoint = endpoint
        self.coordinates = coordinates
        self.history_images = max(0, history_images)
        self.max_output_tokens = max_output_tokens
        self.repair_attempts = repair_attempts
        self._turns: deque[tuple[Image.Image, str]] = deque(maxlen=MAX_TEXT_TURNS)

    # ------------------------------------------------------------------ per family

    def opening(self, given: PlanInput) -> list[dict[str, Any]]:
        """The instructions: system and first user messages."""
        raise NotImplementedError

    def parse(self, text: str, image_size: tuple[int, int]) -> ParsedReply:
        """The reply as native actions in model-image pixels, or ``ModelReplyError``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the request

    def messages(self, given: PlanInput) -> list[dict[str, Any]]:
        """Instructions, the bounded history, feedback and the current screenshot."""
        messages = self.opening(given)
        keep_from = len(self._turns) - self.history_images
        for index, (image, reply) in enumerate(self._turns):
            if index >= keep_from:
                messages.append({"role": "user", "content": [self._image(image)]})
            messages.append({"role": "assistant", "content": reply})
        content: list[dict[str, Any]] = []
        feedback = _feedback(given)
        if feedback:
            content.append({"type": "text", "text": feedback})
        content.append(self._image(given.image))
        messages.append({"role": "user", "content": content})
        return messages

    def _image(self, image: Image.Image) -> dict[str, Any]:
        return image_part(image, self.endpoint.image_format)

    def plan(self, given: PlanInput) -> PlanOutput:
        size = given.image.size
        described = self.coordinates.describe(size)
        messages = self.messages(given)
        calls: list[ModelCall] = []
        for attempt in range(1 + self.repair_attempts):
            try:
                text, call = self.endpoint.ask(
                    messages,
                    module=MODULE,
                    max_tokens=self.max_output_tokens,
                    coordinates=described,
                )
            except ModelError as exc:
                exc.calls = (*calls, *getattr(exc, "calls", ()))  # type: ignore[attr-defined]
                raise
            try:
                parsed = self.parse(text, size)
                sources = [source for action in parsed.actions for source in to_skill_calls(action)]
            except ModelReplyError as exc:
                calls.append(call.model_copy(update={"error": str(exc)}))
                if attempt == self.repair_attempts:
                    raise ModelReplyError(
                        f"{self.family} reply: {exc}", reply=text, calls=tuple(calls)
                    ) from None
                messages = [
                    *messages,
                    {"role": "assistant", "content": text or "(empty)"},
                    {
                        "role": "user",
                        "content": f"That reply could not be used: {exc}. {self.repair_hint}",
                    },
                ]
                continue
            calls.append(call)
            break
        self._turns.append((given.image, text))
        if parsed.asks_user:
            raise UserNeeded(
                f"the model stopped and asks for help: {parsed.asks_user}", calls=tuple(calls)
            )
        plan = ActionPlan(
            reasoning=shorten(parsed.thought, 4000), actions=sources, done=parsed.done
        )
        return PlanOutput(
            plan=plan, calls=tuple(calls), native=tuple(action.raw for action in parsed.actions)
        )

    def close(self) -> None:
        self.endpoint.close()


def _feedback(given: PlanInput) -> str:
    """What went wrong last step and what the environment says, in a few lines."""
    lines = [f"Note: {note}" for note in given.notes]
    lines += [
        f"Your action {o.source} {o.status}: {o.error}"
        for o in given.previous
        if o.status in ("failed", "rejected") and o.error
    ]
    return shorten("\n".join(lines), MAX_FEEDBACK) if lines else ""
