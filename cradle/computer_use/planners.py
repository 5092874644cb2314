"""Open GUI model planners by ``--action-format``: which grammar, which coordinates.

``--action-format uitars|qwen`` picks the planner that talks to an open GUI model over chat
completions (``--provider openai``, i.e. any OpenAI-compatible server); its coordinate
convention is the user's ``--coordinates``/``--coordinates-grid`` or the format's documented
default, resolved once here and recorded with every call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from cradle.computer_use.coordinates import Coordinates, check_grid, coordinates_from_flags
from cradle.errors import ConfigError

if TYPE_CHECKING:
    from cradle.computer_use.text_planner import TextActionPlanner

ActionFormatName = Literal["uitars", "qwen"]


def default_coordinates(action_format: str) -> Coordinates:
    """The documented default convention of a format (see ``--coordinates``)."""
    if action_format == "uitars":
        from cradle.computer_use.uitars import DEFAULT_COORDINATES
    elif action_format == "qwen":
        from cradle.computer_use.qwen import DEFAULT_COORDINATES
    else:
        raise ConfigError(f"--action-format must be uitars or qwen, not {action_format!r}")
    return DEFAULT_COORDINATES


class ActionFormatSettings(BaseModel):
    """An open GUI model's grammar and coordinates (``--action-format``, ``--coordinates``)."""

    format: ActionFormatName | None = Field(
        default=None,
        description="uitars or qwen: the planner is an open GUI model over chat "
        "completions; None: no open GUI model",
    )
    coordinates: Literal["absolute", "relative-1000", "normalized"] | None = Field(
        default=None, description="How the model writes points; None: the format's default"
    )
    coordinates_grid: str | None = Field(
        default=None, description="image, smart-resize or WxH, for absolute points"
    )
    history_images: int = Field(
        default=3, ge=0, le=10, description="Past screenshots sent again with each request"
    )

    def resolved(self) -> Coordinates:
        if self.format is None:
            raise ConfigError("--coordinates needs --action-format uitars|qwen")
        grid = (
            check_grid(self.coordinates_grid, "--coordinates-grid")
            if self.coordinates_grid is not None
            else None
        )
        return coordinates_from_flags(
            self.coordinates, grid, default=default_coordinates(self.format)
        )


def build_text_planner(
    fmt: ActionFormatSettings,
    *,
    provider: str,
    model: str,
    base_url: str | None,
    api_key_env: str,
    timeout: float,
    max_retries: int,
    max_output_tokens: int | None,
    **_ignored: Any,
) -> TextActionPlanner:
    """The UI-TARS or Qwen-VL planner on a chat completions endpoint (``_ignored``: options
    of the computer-use API planners, such as their safety gate)."""
    from cradle.computer_use.chat import ChatEndpoint

    if provider != "openai":
        raise ConfigError(
            f"--action-format {fmt.format} needs --provider openai (chat "
            f"completions, which vLLM, Ollama and LM Studio serve), not {provider}"
        )
    coordinates = fmt.resolved()
    endpoint = ChatEndpoint(
        model=model,
        base_url=base_url,
        api_key_env=api_key_env,
        timeout=timeout,
        max_retries=max_retries,
    )
    options: dict[str, Any] = {
        "history_images": fmt.history_images,
        "max_output_tokens": max_output_tokens or 1024,
    }
    if fmt.format == "uitars":
        from cradle.computer_use.uitars import UITarsPlanner

        return UITarsPlanner(endpoint, coordinates, **options)
    from cradle.computer_use.qwen import QwenPlanner

    return QwenPlanner(endpoint, coordinates, **options)
