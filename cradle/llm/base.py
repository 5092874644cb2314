"""The model interface the loop talks to, whatever serves the model.

A request names the module asking, carries rendered prompt text, the images to show and the
pydantic model the reply must fit. A provider returns the parsed reply with a ``ModelCall``
record (tokens, latency, the text sent without image bytes) for the trajectory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image
from pydantic import BaseModel

from cradle.types import ModelCall


@dataclass(frozen=True)
class ModelRequest:
    """One question to the model: prompt text, images, and the shape of the answer."""

    module: str
    system: str
    user: str
    output_model: type[BaseModel]
    images: tuple[Image.Image, ...] = field(default_factory=tuple)
    max_output_tokens: int | None = None
    """The longest reply this output needs (None: the provider's default); a provider sends
    it so a model that runs on (a small one under a JSON grammar) is stopped by the server."""


@dataclass(frozen=True)
class ModelReply:
    """The validated answer and the records of the calls that produced it (repairs included)."""

    output: BaseModel
    calls: tuple[ModelCall, ...]


class ModelProvider(Protocol):
    """Anything that can answer a ``ModelRequest`` (a real service or a test double)."""

    @property
    def model_name(self) -> str: ...

    def complete(self, request: ModelRequest) -> ModelReply:
        """Answer ``request`` or raise ``ModelError`` (never return an unvalidated reply)."""
        ...

    def close(self) -> None:
        """Release connections; the provider is not used afterwards."""
        ...


REPAIR_MARK = "\n[repair]\n"
"""Separates a repair request's note from the prompt it repairs, in the recorded prompt."""


def prompt_record(request: ModelRequest) -> str:
    """The prompt text as recorded: system and user text, images as a placeholder line."""
    images = f"\n[{len(request.images)} image(s) attached]" if request.images else ""
    return f"[system]\n{request.system}\n[user]\n{request.user}{images}"
