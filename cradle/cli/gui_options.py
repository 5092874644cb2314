"""Flags of open GUI models and grounding models: their grammar and coordinate convention.

A model's coordinate convention is never guessed: each format has a documented default,
given here in the help, and the convention used is recorded in every model call of the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from cradle.cli.option_groups import SettingDefault

if TYPE_CHECKING:
    from cradle.agent import AgentSettings
    from cradle.computer_use.grounding import GroundingSettings
    from cradle.computer_use.planners import ActionFormatSettings

ACTION_FORMATS = ("uitars", "qwen")
GROUNDING_FORMATS = ("uitars", "qwen", "point")
CONVENTIONS = ("absolute", "relative-1000", "normalized")
GROUNDING_TIMEOUT = 20.0
"""At most this long per grounding request (--timeout if shorter): a grounded skill must end
within its action time limit (30 s), and a blocked request cannot be interrupted."""
_GRID_HELP = (
    "image (the screenshot as sent), smart-resize (the size Qwen2.5-VL and "
    "UI-TARS-1.5 resize it to: sides rounded to multiples of 28, 3,136 to 12,845,056 "
    "pixels) or WxH (a fixed grid, e.g. 1288x728, when the server resizes with other "
    "limits)"
)

ActionFormat = Annotated[
    str | None,
    typer.Option(
        "--action-format",
        metavar="FORMAT",
        help="The reply grammar of an open GUI model planning alone (--mode "
        "computer-use) or as the planner (--planner computer-use) over --provider "
        "openai: uitars (UI-TARS 'Thought: ... Action: click(start_box=...)') or qwen "
        "(Qwen2.5-VL / Qwen3-VL computer_use <tool_call>s).",
    ),
]
CoordinatesOpt = Annotated[
    str | None,
    typer.Option(
        "--coordinates",
        metavar="CONVENTION",
        help="How the --action-format model writes points: absolute (pixels), "
        "relative-1000 (thousandths: UI-TARS 1.0, Qwen3-VL) or normalized (0-1). "
        "Default for uitars and qwen: absolute on the smart-resize grid (UI-TARS-1.5, "
        "Qwen2.5-VL). The convention used is recorded in every model call.",
    ),
]
CoordinatesGrid = Annotated[
    str | None,
    typer.Option(
        "--coordinates-grid",
        metavar="GRID",
        help=f"For absolute --coordinates, the grid the points are on: {_GRID_HELP}.",
    ),
]
GroundingBaseUrl = Annotated[
    str | None,
    typer.Option(
        "--grounding-base-url",
        metavar="URL",
        help="An OpenAI-compatible server with a grounding model, asked where a "
        "described widget is; enables click_target, double_click_target, "
        "right_click_target and type_into (key: OPENAI_API_KEY if set).",
    ),
]
GroundingModel = Annotated[
    str | None,
    typer.Option("--grounding-model", metavar="NAME", help="The grounding model's name."),
]
GroundingFormat = Annotated[
    str,
    typer.Option(
        "--grounding-format",
        metavar="FORMAT",
        help="How the grounding model answers: uitars (a UI-TARS click action), qwen "
        "(a computer_use left_click tool call) or point (a bare (x, y)). Default "
        "coordinates: absolute on the smart-resize grid for uitars and qwen, absolute "
        "pixels of the image for point.",
    ),
]
GroundingCoordinates = Annotated[
    str | None,
    typer.Option(
        "--grounding-coordinates",
        metavar="CONVENTION",
        help="How the grounding model writes points: absolute, relative-1000 or "
        "normalized (default: the --grounding-format's, see there).",
    ),
]
GroundingCoordinatesGrid = Annotated[
    str | None,
    typer.Option(
        "--grounding-coordinates-grid",
        metavar="GRID",
        help=f"For absolute grounding points, the grid: {_GRID_HELP}.",
    ),
]


def _grounding_fields() -> type:
    from cradle.computer_use.grounding import GroundingSettings

    return GroundingSettings


@dataclass
class GroundingOptions:
    """A grounding model: where it is served and how it writes points."""

    grounding_base_url: GroundingBaseUrl = None
    grounding_model: GroundingModel = None
    grounding_format: GroundingFormat = SettingDefault(_grounding_fields, "format")
    grounding_coordinates: GroundingCoordinates = None
    grounding_coordinates_grid: GroundingCoordinatesGrid = None

    def settings(self, timeout: float) -> GroundingSettings:
        """The grounding endpoint (``timeout``: the run's per-reply limit)."""
        return grounding_settings(
            base_url=self.grounding_base_url,
            model=self.grounding_model,
            fmt=self.grounding_format,
            coordinates=self.grounding_coordinates,
            grid=self.grounding_coordinates_grid,
            timeout=timeout,
        )


def _choice(value: str | None, choices: tuple[str, ...], flag: str) -> None:
    if value is not None and value not in choices:
        raise typer.BadParameter(f"use {', '.join(choices)}", param_hint=flag)


def action_format_settings(
    action_format: str | None, coordinates: str | None, grid: str | None
) -> ActionFormatSettings:
    """The --action-format model's grammar and convention, checked now (a bad value is a
    usage error before any run folder exists)."""
    from cradle.computer_use.planners import ActionFormatSettings

    _choice(action_format, ACTION_FORMATS, "--action-format")
    _choice(coordinates, CONVENTIONS, "--coordinates")
    if action_format is None and (coordinates is not None or grid is not None):
        raise typer.BadParameter(
            "needs --action-format uitars|qwen",
            param_hint=("--coordinates" if coordinates is not None else "--coordinates-grid"),
        )
    settings = ActionFormatSettings(
        format=action_format,  # type: ignore[arg-type]
        coordinates=coordinates,  # type: ignore[arg-type]
        coordinates_grid=grid,
    )
    if action_format is not None:
        settings.resolved()
    return settings


def grounding_settings(
    *,
    base_url: str | None,
    model: str | None,
    fmt: str,
    coordinates: str | None,
    grid: str | None,
    timeout: float,
) -> GroundingSettings:
    """The grounding endpoint from its flags (checked now: a bad one is a usage error before
    any run folder exists)."""
    from cradle.computer_use.grounding import GroundingSettings

    _choice(fmt, GROUNDING_FORMATS, "--grounding-format")
    _choice(coordinates, CONVENTIONS, "--grounding-coordinates")
    if (base_url is None) != (model is None):
        raise typer.BadParameter(
            "give both --grounding-base-url and --grounding-model",
            param_hint="--grounding-model" if base_url else "--grounding-base-url",
        )
    settings = GroundingSettings(
        base_url=base_url,
        model=model or "",
        format=fmt,  # type: ignore[arg-type]
        coordinates=coordinates,
        coordinates_grid=grid,  # type: ignore[arg-type]
        timeout=min(timeout, GROUNDING_TIMEOUT),
    )
    settings.resolved()  # a bad grid or a grid with a relative convention fails here
    return settings


def check_planner_for(agent: AgentSettings, chosen: ActionFormatSettings) -> None:
    """An --action-format choice needs a planner to use it (``agent``: the run's loop
    settings without it)."""
    from cradle.computer_use.factory import uses_planner
    from cradle.runtime import RuntimeSettings

    if chosen.format is not None and not uses_planner(RuntimeSettings(agent=agent)):
        raise typer.BadParameter(
            "needs --mode computer-use or --planner computer-use", param_hint="--action-format"
        )
