"""A grounding model: a second endpoint that answers "where is X" with a point.

A planner names the widget in words (``click_target(description='the File menu')``); the
grounder (UI-TARS, Qwen-VL, or any model that answers a point: UGround, OS-Atlas, ...) is
shown the current screenshot and answers where it is. ``--grounding-format`` says how it
answers: ``uitars`` (a UI-TARS click action), ``qwen`` (a ``computer_use`` left_click tool
call) or ``point`` (a bare ``(x, y)``), each read in ``--grounding-coordinates`` (or the
format's documented default). The point goes through the one coordinate mapping like every
click. Every request is a ``ModelCall`` of module ``grounding`` that the loop adds to the
step's records and budget (:meth:`Grounder.take_calls`), and each located point is returned
to the skill with the reply and latency, so the step and the report show them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from cradle.computer_use.chat import ChatEndpoint, image_part
from cradle.computer_use.coordinates import Coordinates, check_grid, coordinates_from_flags
from cradle.errors import (
    ConfigError,
    ModelError,
    ModelReplyError,
    ModelUnavailableError,
    SkillExecutionError,
)
from cradle.types import ModelCall, StepRecord

if TYPE_CHECKING:
    from PIL import Image

    from cradle.skills.context import SkillContext

GroundingFormat = Literal["uitars", "qwen", "point"]
MODULE = "grounding"
GROUNDED_SKILLS = frozenset(
    {"click_target", "double_click_target", "right_click_target", "type_into"}
)
"""Skills that need a grounder: not offered to the model when none is configured."""
NO_GROUNDER = (
    "{skill} needs a grounding model: run with --grounding-base-url URL and "
    "--grounding-model NAME (and --grounding-format uitars|qwen|point)"
)
MAX_DESCRIPTION = 300
MAX_PENDING = 200
"""Unclaimed call records kept (the loop takes them every step)."""
_DEFAULTS: dict[str, Coordinates] = {
    "uitars": Coordinates("absolute", "smart-resize", "default of uitars"),
    "qwen": Coordinates("absolute", "smart-resize", "default of qwen"),
    "point": Coordinates("absolute", "image", "default of point"),
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class GroundingSettings(BaseModel):
    """The grounding endpoint (``--grounding-*``); no base URL means no grounder."""

    base_url: str | None = None
    model: str = ""
    format: GroundingFormat = "point"
    coordinates: Literal["absolute", "relative-1000", "normalized"] | None = Field(
        default=None, description="How its points are written; None: the format's default"
    )
    coordinates_grid: str | None = Field(
        default=None, description="image, smart-resize or WxH, for absolute points"
    )
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = Field(
        default=20.0,
        gt=0,
        description="Seconds per request, one try: "
        "a grounded skill must end within its action time limit",
    )
    max_output_tokens: int = Field(default=256, ge=16)

    def resolved(self) -> Coordinates:
        grid = (
            check_grid(self.coordinates_grid, "--grounding-coordinates-grid")
            if self.coordinates_grid is not None
            else None
        )
        return coordinates_from_flags(
            self.coordinates, grid, default=_DEFAULTS[self.format], flag="--grounding-coordinates"
        )

    def build(self) -> Grounder | None:
        """The grounder, or None when no endpoint is configured."""
        if not self.base_url and not self.model:
            return None
        if not self.base_url or not self.model:
            raise ConfigError("give both --grounding-base-url and --grounding-model")
        endpoint = ChatEndpoint(
            model=self.model,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            timeout=self.timeout,
            max_retries=0,
            flag="--grounding-base-url",
        )
        return Grounder(
            endpoint, self.format, self.resolved(), max_output_tokens=self.max_output_tokens
        )


@dataclass(frozen=True)
class Grounded:
    """Where the grounder put a described target, in model-image pixels."""

    description: str
    x: int
    y: int
    reply: str
    latency_ms: float
    coordinates: str

    def result(self, action: str) -> dict[str, Any]:
        """What the skill returns: recorded as the action's result, drawn in the report."""
        return {
            "action": action,
            "target": self.description,
            "point": [self.x, self.y],
            "reply": self.reply[:300],
            "latency_ms": self.latency_ms,
            "coordinates": self.coordinates,
        }


class Grounder:
    """Asks the grounding endpoint for points; keeps the call records for the loop."""

    def __init__(
        self,
        endpoint: ChatEndpoint,
        fmt: GroundingFormat,
        coordinates: Coordinates,
        *,
        max_output_tokens: int = 256,
    ) -> None:
        self.endpoint = endpoint
        self.format = fmt
        self.coordinates = coordinates
        self.max_output_tokens = max_output_tokens
        self._calls: list[ModelCall] = []

    def take_calls(self) -> list[ModelCall]:
        """The records of requests since the last take (the loop puts them in the step)."""
        calls, self._calls = self._calls, []
        return calls

    def _keep(self, call: ModelCall) -> None:
        if len(self._calls) < MAX_PENDING:
            self._calls.append(call)

    def locate(self, description: str, image: Image.Image) -> Grounded:
        """The point of ``description`` on ``image``; ``SkillExecutionError`` (one line the
        planner reads) when the grounder fails or answers no usable point."""
        description = " ".join(description.split())
        if not description or len(description) > MAX_DESCRIPTION:
            raise SkillExecutionError(f"describe the target in 1 to {MAX_DESCRIPTION} characters")
        size = image.size
        described = self.coordinates.describe(size)
        messages = [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": self._question(description, size)},
                    image_part(image, self.endpoint.image_format),
                ],
            }
        ]
        try:
            text, call = self.endpoint.ask(
                messages, module=MODULE, coordinates=described, max_tokens=self.max_output_tokens
            )
        except ModelError as exc:
            for failed in getattr(exc, "calls", ()):
                self._keep(failed)
            raise SkillExecutionError(f"grounding model: {exc}") from None
        try:
            x, y = self.read(text, size)
        except ModelError as exc:
            self._keep(call.model_copy(update={"error": str(exc)}))
            raise SkillExecutionError(
                f"the grounding model gave no usable point for {description!r}: {exc}"
            ) from None
        self._keep(call)
        return Grounded(description, x, y, text, call.latency_ms, described)

    def _question(self, description: str, size: tuple[int, int]) -> str:
        if self.format == "uitars":
            from cradle.computer_use.uitars import PROMPT

            return PROMPT.format(instruction=f"Click on {description}")
        if self.format == "qwen":
            from cradle.computer_use.qwen import system_prompt

            return (
                f"{system_prompt(self.coordinates, size)}\n\nClick on {description} "
                "with one left_click."
            )
        width, height = self.coordinates.space(size)
        unit = {
            "relative-1000": "thousandths of the width and height (0-1000)",
            "normalized": "fractions of the width and height (0-1)",
        }.get(self.coordinates.convention, f"pixels of the {width}x{height} image")
        return (
            f"Where is {description} on this screenshot? Answer with one point (x, y) in "
            f"{unit}, and nothing else."
        )

    def read(self, text: str, size: tuple[int, int]) -> tuple[int, int]:
        """The first point of the reply in model-image pixels (``ModelReplyError`` if none)."""
        if self.format == "uitars":
            from cradle.computer_use.uitars import parse_uitars

            actions = parse_uitars(text, self.coordinates, size).actions
        elif self.format == "qwen":
            from cradle.computer_use.qwen import parse_qwen

            actions = parse_qwen(text, self.coordinates, size).actions
        else:
            return read_point_reply(text, self.coordinates, size)
        for action in actions:
            if action.x is not None and action.y is not None:
                return action.x, action.y
        raise ModelReplyError("the reply has no action with a point")

    def close(self) -> None:
        self.endpoint.close()


def read_point_reply(text: str, coordinates: Coordinates, size: tuple[int, int]) -> tuple[int, int]:
    """A bare point: ``(x, y)``, ``[x, y]``, ``<point>x y</point>``, ``{"x":..,"y":..}`` or a
    box ``[x1, y1, x2, y2]`` (its centre): the first numbers of the reply."""
    try:
        data = json.loads(text)
        if isinstance(data, dict) and {"x", "y"} <= data.keys():
            text = f"{data['x']}, {data['y']}"
    except ValueError:
        pass
    numbers = [float(n) for n in _NUMBER.findall(text[:500])]
    if len(numbers) >= 4 and not re.search(r"\)\s*,?\s*\(", text):
        numbers = [(numbers[0] + numbers[2]) / 2, (numbers[1] + numbers[3]) / 2]
    if len(numbers) < 2:
        raise ModelReplyError(f"no point in the reply {text[:120]!r}")
    return coordinates.to_image(numbers[0], numbers[1], size)


def locate(ctx: SkillContext, description: str, skill: str) -> Grounded:
    """Where ``description`` is on the current screen, for a grounded skill: the screen is
    captured now (earlier actions of the step may have changed it) and shown at the size of
    the image the planner saw, so the point is in the planner's pixels."""
    grounder = ctx.episode.grounder
    if grounder is None:
        raise SkillExecutionError(NO_GROUNDER.format(skill=skill))
    from cradle.llm.images import downscale

    size = ctx.mapping.image_size
    frame = downscale(ctx.capture(), max(size))
    if frame.size != size:
        frame = frame.resize(size)
    return grounder.locate(description, frame)


class RecordedEndpoint:
    """Answers a grounder with a run's recorded grounding replies, in order (replay)."""

    image_format = "jpeg"

    def __init__(self, calls: list[ModelCall]) -> None:
        self._calls = calls
        self._next = 0

    def ask(
        self, messages: list[dict[str, Any]], *, module: str, max_tokens: int, coordinates: str = ""
    ) -> tuple[str, ModelCall]:
        if self._next >= len(self._calls):
            raise ModelUnavailableError(
                f"the recording has no grounding reply left (all {len(self._calls)} were used)"
            )
        recorded = self._calls[self._next]
        self._next += 1
        return recorded.reply, ModelCall(
            module=module,
            model=f"replayed:{recorded.model}",
            response_mode="scripted",
            prompt="(replayed grounding reply)",
            images=1,
            reply=recorded.reply,
            coordinates=coordinates,
        )

    def close(self) -> None:
        return None


def replayed_grounder(steps: Iterable[StepRecord], settings: GroundingSettings) -> Grounder:
    """A grounder answering with the grounding replies recorded in ``steps``: the same
    parser and convention read them again, so a replay clicks where the run clicked."""
    calls = [
        call
        for step in steps
        for call in step.model_calls
        if call.module == MODULE and not call.request_failed
    ]
    return Grounder(
        RecordedEndpoint(calls),
        settings.format,  # type: ignore[arg-type]
        settings.resolved(),
        max_output_tokens=settings.max_output_tokens,
    )
