"""The model and loop flags that ``cradle run``, ``cradle eval`` and ``cradle models check``
share, defined once.

Each flag is an annotated type (its name, help and limits); the flags that make one setting
together are an option group (:mod:`cradle.cli.option_groups`): the model service, how it is
asked, the loop, the budget and the planner. A command takes the groups it needs and builds
its settings from them; defaults come from the settings models themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cradle.cli import gui_options as gui
from cradle.cli.option_groups import SettingDefault

if TYPE_CHECKING:
    from cradle.agent import AgentSettings
    from cradle.runtime import ModelSettings

Mode = Annotated[
    str,
    typer.Option(
        "--mode",
        help="modular: one model call per module (as Cradle does); fused: one call per step; "
        "computer-use: a computer-use model alone decides each step, one call per step "
        "(--provider anthropic: Claude's computer tool; openai-responses: OpenAI's "
        "computer-use model).",
    ),
]
PROVIDERS = ("openai", "openai-responses", "anthropic")
Provider = Annotated[
    str,
    typer.Option(
        "--provider",
        metavar="API",
        help="The API the model speaks: openai (chat completions: OpenAI and every "
        "OpenAI-compatible server: vLLM, Ollama, LM Studio, llama.cpp), "
        "openai-responses (OpenAI's Responses API), anthropic (Claude's Messages "
        "API).",
    ),
]
Model = Annotated[str, typer.Option("--model", help="Model name the server knows.")]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="The server, e.g. http://127.0.0.1:8000/v1 for an OpenAI-compatible one (vLLM, "
        "Ollama, LM Studio, llama.cpp). Default: OPENAI_BASE_URL (ANTHROPIC_BASE_URL with "
        "--provider anthropic), else the provider's own service.",
    ),
]
ApiKeyEnv = Annotated[
    str | None,
    typer.Option(
        "--api-key-env",
        metavar="NAME",
        help="Environment variable that holds the API key (default: OPENAI_API_KEY; "
        "ANTHROPIC_API_KEY with --provider anthropic).",
    ),
]
AzureEndpoint = Annotated[
    str | None, typer.Option("--azure-endpoint", help="Azure OpenAI endpoint URL.")
]
AzureApiVersion = Annotated[
    str | None, typer.Option("--azure-api-version", help="Azure OpenAI API version.")
]
ModelTimeout = Annotated[
    float, typer.Option("--timeout", min=1, help="Seconds to wait for one model reply.")
]
MaxRetries = Annotated[
    int, typer.Option("--max-retries", min=0, help="Retries on 429/5xx/connection errors.")
]
PriceIn = Annotated[float | None, typer.Option("--price-in", min=0, help="$ per 1M input tokens.")]
PriceOut = Annotated[
    float | None, typer.Option("--price-out", min=0, help="$ per 1M output tokens.")
]
Prices = Annotated[
    Path | None,
    typer.Option("--prices", help='Price table JSON: {"model": [in_per_1M, out_per_1M]}.'),
]
MaxTokens = Annotated[
    int | None, typer.Option("--max-tokens", min=1, help="Token budget (input + output).")
]
MaxCost = Annotated[
    float | None, typer.Option("--max-cost", min=0.0001, help="Cost budget in US dollars.")
]
MaxImageSide = Annotated[
    int, typer.Option("--max-image-side", min=64, help="Screenshots are downscaled to this.")
]
MaxActions = Annotated[
    int,
    typer.Option(
        "--max-actions",
        min=1,
        max=50,
        help="Actions run from one plan; the rest are refused (1-50).",
    ),
]
NoVision = Annotated[
    bool,
    typer.Option(
        "--no-vision",
        help="The model has no image input: send no screenshot; the prompt carries "
        "the text read on screen (by OCR when the environment reads none itself) and "
        "the element list instead.",
    ),
]
MaxOutputTokens = Annotated[
    int | None,
    typer.Option(
        "--max-output-tokens",
        min=16,
        metavar="N",
        help="Longest reply, sent as max_tokens with every request (default: sized "
        "to the reply: 2048 for a fused step or skill curation, 1024 for a plan or "
        "screen description, 512 for reflection and task inference).",
    ),
]
RESPONSE_MODES = ("json_schema", "json_object_schema", "json_object", "prompt")
ResponseMode = Annotated[
    str | None,
    typer.Option(
        "--response-mode",
        metavar="MODE",
        help="Use one structured-output mode instead of falling back through them in "
        "this order: json_schema (structured outputs with the strict schema), "
        "json_object_schema (json_object carrying the schema: llama.cpp's grammar), "
        "json_object (any JSON object; the schema in the prompt), prompt (no "
        "response_format; the schema in the prompt, one repair).",
    ),
]
Settle = Annotated[
    float | None,
    typer.Option(
        "--settle",
        min=0,
        metavar="SECONDS",
        help="Before each capture, wait up to SECONDS for the screen to come to "
        "rest after the last actions, so a repaint is not missed (default 1; "
        "0 captures at once).",
    ),
]


PLANNERS = ("model", "computer-use")
Planner = Annotated[
    str,
    typer.Option(
        "--planner",
        metavar="KIND",
        help="Who plans the actions in modular/fused mode: model (the general model "
        "writes skill calls) or computer-use (a computer-use model plans in its own "
        "actions; the other modules still run with the general model).",
    ),
]
PlannerModel = Annotated[
    str | None,
    typer.Option(
        "--planner-model",
        metavar="NAME",
        help="The computer-use planner's model (default: --model).",
    ),
]
PlannerProvider = Annotated[
    str | None,
    typer.Option(
        "--planner-provider",
        metavar="API",
        help="The planner's API when it is not --provider: anthropic or "
        "openai-responses (its key from ANTHROPIC_API_KEY or OPENAI_API_KEY).",
    ),
]
PlannerBaseUrl = Annotated[
    str | None,
    typer.Option(
        "--planner-base-url",
        metavar="URL",
        help="The planner's server (default: --base-url when the planner uses "
        "--provider, else the provider's own service).",
    ),
]


def check_mode(mode: str) -> str:
    if mode not in ("modular", "fused", "computer-use"):
        raise typer.BadParameter("use modular, fused or computer-use", param_hint="--mode")
    return mode


def planner_settings(
    *,
    planner: str = "model",
    planner_model: str | None = None,
    planner_provider: str | None = None,
    planner_base_url: str | None = None,
) -> dict[str, Any]:
    """The planner flags as ``AgentSettings.planner`` fields (checked)."""
    if planner not in PLANNERS:
        raise typer.BadParameter(f"use {' or '.join(PLANNERS)}", param_hint="--planner")
    if planner_provider not in (None, "anthropic", "openai-responses"):
        raise typer.BadParameter(
            "use anthropic or openai-responses", param_hint="--planner-provider"
        )
    return {
        "kind": planner,
        "model": planner_model,
        "provider": planner_provider,
        "base_url": planner_base_url,
    }


def check_provider(provider: str, *, azure: bool = False, response_mode: bool = False) -> None:
    """A known --provider, and only the flags it has (the fallback chain and Azure are the
    chat completions provider's; Azure also serves the Responses API)."""
    if provider not in PROVIDERS:
        raise typer.BadParameter(f"use {', '.join(PROVIDERS)}", param_hint="--provider")
    if response_mode and provider != "openai":
        raise typer.BadParameter(
            "only with --provider openai (the others have one structured-output mode each)",
            param_hint="--response-mode",
        )
    if azure and provider == "anthropic":
        raise typer.BadParameter("not with --provider anthropic", param_hint="--azure-endpoint")


def model_settings(
    *,
    model: str,
    base_url: str | None,
    api_key_env: str | None,
    azure_endpoint: str | None,
    azure_api_version: str | None,
    timeout: float,
    max_retries: int,
    price_in: float | None,
    price_out: float | None,
    prices: Path | None,
    max_output_tokens: int | None,
    response_mode: str | None,
    provider: str = "openai",
) -> ModelSettings:
    """Where the model is served, how it is asked and what it costs, from the shared flags."""
    from cradle.runtime import ModelSettings

    check_provider(
        provider, azure=azure_endpoint is not None, response_mode=response_mode is not None
    )
    if response_mode is not None and response_mode not in RESPONSE_MODES:
        raise typer.BadParameter(f"use {', '.join(RESPONSE_MODES)}", param_hint="--response-mode")
    return ModelSettings(
        provider=provider,
        model=model,
        base_url=base_url,
        api_key_env=api_key_env,
        azure_endpoint=azure_endpoint,
        azure_api_version=azure_api_version,
        timeout=timeout,
        max_retries=max_retries,
        price_in=price_in,
        price_out=price_out,
        prices_file=prices,
        max_output_tokens=max_output_tokens,
        response_mode=response_mode,
    )


def agent_settings(
    *,
    mode: str,
    max_image_side: int,
    max_actions: int,
    settle: float | None,
    max_tokens: int | None,
    max_cost: float | None,
    no_vision: bool,
    planner: dict[str, Any] | None = None,
    **more: Any,
) -> AgentSettings:
    """How the loop runs, from the shared flags (``more``: the command's own, e.g. max_steps;
    ``planner``: from :func:`planner_settings`)."""
    from cradle.agent import AgentSettings

    return AgentSettings(
        **({"planner": planner} if planner else {}),
        mode=check_mode(mode),
        max_image_side=max_image_side,
        max_actions=max_actions,
        max_tokens=max_tokens,
        max_cost=max_cost,
        vision=not no_vision,
        **({} if settle is None else {"settle_seconds": settle}),
        **more,
    )


def _model_fields() -> type:
    from cradle.runtime import ModelSettings

    return ModelSettings


def agent_fields() -> type:
    from cradle.agent import AgentSettings

    return AgentSettings


def _planner_fields() -> type:
    from cradle.computer_use.factory import PlannerSettings

    return PlannerSettings


@dataclass
class ServiceOptions:
    """Where the model is served and which API it speaks."""

    provider: Provider = SettingDefault(_model_fields, "provider")
    model: Model = SettingDefault(_model_fields, "model")
    base_url: BaseUrl = None
    api_key_env: ApiKeyEnv = None
    azure_endpoint: AzureEndpoint = None
    azure_api_version: AzureApiVersion = None


@dataclass
class RequestOptions:
    """How each request is sent: its time limit, retries, reply size and output mode."""

    timeout: ModelTimeout = SettingDefault(_model_fields, "timeout")
    max_retries: MaxRetries = SettingDefault(_model_fields, "max_retries")
    max_output_tokens: MaxOutputTokens = None
    response_mode: ResponseMode = None


@dataclass
class LoopOptions:
    """How the loop runs a step: its mode, the screenshot and plan sizes, vision."""

    mode: Mode = SettingDefault(agent_fields, "mode")
    max_image_side: MaxImageSide = SettingDefault(agent_fields, "max_image_side")
    max_actions: MaxActions = SettingDefault(agent_fields, "max_actions")
    settle: Settle = None
    no_vision: NoVision = False


@dataclass
class BudgetOptions:
    """The token and cost budgets, and the prices the cost is counted at."""

    max_tokens: MaxTokens = None
    max_cost: MaxCost = None
    price_in: PriceIn = None
    price_out: PriceOut = None
    prices: Prices = None


@dataclass
class PlannerOptions:
    """Who plans the actions, and the reply grammar of an open GUI model planning."""

    planner: Planner = SettingDefault(_planner_fields, "kind")
    planner_model: PlannerModel = None
    planner_provider: PlannerProvider = None
    planner_base_url: PlannerBaseUrl = None
    action_format: gui.ActionFormat = None
    coordinates: gui.CoordinatesOpt = None
    coordinates_grid: gui.CoordinatesGrid = None


def model_from(
    service: ServiceOptions, request: RequestOptions, budget: BudgetOptions | None = None
) -> ModelSettings:
    """The model settings of a run from its groups (checked: a bad value is a usage error)."""
    return model_settings(
        provider=service.provider,
        model=service.model,
        base_url=service.base_url,
        api_key_env=service.api_key_env,
        azure_endpoint=service.azure_endpoint,
        azure_api_version=service.azure_api_version,
        timeout=request.timeout,
        max_retries=request.max_retries,
        price_in=budget.price_in if budget else None,
        price_out=budget.price_out if budget else None,
        prices=budget.prices if budget else None,
        max_output_tokens=request.max_output_tokens,
        response_mode=request.response_mode,
    )


def agent_from(
    loop: LoopOptions, budget: BudgetOptions, planning: PlannerOptions, **more: Any
) -> AgentSettings:
    """The loop settings of a run from its groups (``more``: the command's own, e.g.
    max_steps), with the planner and its action format checked."""
    planner = planner_settings(
        planner=planning.planner,
        planner_model=planning.planner_model,
        planner_provider=planning.planner_provider,
        planner_base_url=planning.planner_base_url,
    )
    fields: dict[str, Any] = dict(
        mode=loop.mode,
        max_image_side=loop.max_image_side,
        max_actions=loop.max_actions,
        settle=loop.settle,
        max_tokens=budget.max_tokens,
        max_cost=budget.max_cost,
        no_vision=loop.no_vision,
        **more,
    )
    agent = agent_settings(**fields, planner=planner)
    chosen = gui.action_format_settings(
        planning.action_format, planning.coordinates, planning.coordinates_grid
    )
    if chosen.format is None:
        return agent
    gui.check_planner_for(agent, chosen)
    return agent_settings(**fields, planner={**planner, "action_format": chosen})
