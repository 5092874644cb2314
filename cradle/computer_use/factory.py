"""Which planner a run uses, built from its settings (``build_planner``).

``--planner model`` (default) keeps today's JSON action planning by the general model and
builds nothing. ``--planner computer-use`` in modular/fused mode, or ``--mode computer-use``,
builds a planner for the episode (it holds the episode's conversation): Claude's computer
tool with provider ``anthropic``, OpenAI's computer-use model with ``openai-responses``. The
planner speaks to the run's provider and server unless ``--planner-provider`` /
``--planner-base-url`` name others (a general chat model plus Claude as the planner), with
``--planner-model`` as its model name (default ``--model``). Its key comes from the provider's
usual variable (``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``), or ``--api-key-env`` when the
planner uses the run's own provider.

In ``--mode computer-use`` no general model is asked anything; ``PlannerOnlyModel`` stands in
for it (its name is the planner's model, so prices and the run record name the right model).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from cradle.computer_use.planners import ActionFormatSettings
from cradle.errors import ModelError, UsageError

if TYPE_CHECKING:
    from cradle.computer_use.base import ActionPlanner
    from cradle.computer_use.native import SafetyGate
    from cradle.gate.policy import Confirmer, ConfirmMode
    from cradle.llm.base import ModelReply, ModelRequest
    from cradle.runtime import RuntimeSettings

PlannerKind = Literal["model", "computer-use"]
COMPUTER_USE_PROVIDERS = ("anthropic", "openai-responses")
_KEYS = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai-responses": "OPENAI_API_KEY",
    "openai": "OPENAI_API_KEY",
}


class PlannerSettings(BaseModel):
    """The action planner: the general model's JSON plans, or a computer-use model."""

    kind: PlannerKind = Field(
        default="model",
        description="model: the general model plans (JSON skill calls); "
        "computer-use: a computer-use model plans in its own actions",
    )
    model: str | None = Field(default=None, description="The planner's model (default: --model)")
    provider: Literal["anthropic", "openai-responses"] | None = Field(
        default=None, description="The planner's API (default: --provider)"
    )
    base_url: str | None = Field(
        default=None,
        description="The planner's server (default: --base-url when the planner "
        "uses the run's provider, else the provider's own service)",
    )
    environment: Literal["linux", "windows", "mac", "browser"] | None = Field(
        default=None,
        description="What OpenAI's computer-use model is told it operates "
        "(default: this machine's platform)",
    )
    keep_images: int = Field(
        default=3, ge=1, le=20, description="Screenshots kept in Claude's conversation"
    )
    action_format: ActionFormatSettings = Field(
        default_factory=ActionFormatSettings,
        description="An open GUI model's grammar and "
        "coordinates (--action-format uitars|qwen over --provider openai)",
    )


def uses_planner(settings: RuntimeSettings) -> bool:
    """True when a planner, not the general model, plans the run's actions."""
    return settings.agent.mode == "computer-use" or settings.agent.planner.kind != "model"


def planner_key_env(settings: RuntimeSettings) -> str | None:
    """The variable the planner's key is read from (None: no planner)."""
    if not uses_planner(settings):
        return None
    return _where(settings)[2]


def _where(settings: RuntimeSettings) -> tuple[str, str | None, str]:
    """The planner's provider, server and key variable."""
    model = settings.model
    run_provider = str(getattr(model, "provider", "openai"))
    provider = settings.agent.planner.provider or run_provider
    same = provider == run_provider
    base_url = settings.agent.planner.base_url or (model.base_url if same else None)
    key_env = model.api_key_env if same else _KEYS.get(provider, "OPENAI_API_KEY")
    return provider, base_url, key_env


def safety_gate(confirm: ConfirmMode, confirmer: Confirmer | None) -> SafetyGate | None:
    """How a model's safety check is confirmed: ``--confirm never`` accepts them, otherwise
    the user is asked (no terminal: declined)."""
    if confirm == "never":
        return lambda _question: True
    return confirmer


def build_planner(
    settings: RuntimeSettings, *, confirmer: Confirmer | None = None, environment: str = ""
) -> ActionPlanner | None:
    """A fresh planner for one episode, or None when the general model plans."""
    if not uses_planner(settings):
        return None
    if not settings.agent.vision:
        raise UsageError("a computer-use planner needs the screenshot: drop --no-vision")
    provider, base_url, key_env = _where(settings)
    model = settings.model
    common: dict[str, Any] = dict(
        model=settings.agent.planner.model or model.model,
        base_url=base_url,
        api_key_env=key_env,
        timeout=model.timeout,
        max_retries=model.max_retries,
        max_output_tokens=model.max_output_tokens,
        safety_gate=safety_gate(settings.safety.confirm, confirmer),
    )
    if settings.agent.planner.action_format.format is not None:
        from cradle.computer_use.planners import build_text_planner

        return build_text_planner(settings.agent.planner.action_format, provider=provider, **common)
    if provider == "anthropic":
        from cradle.computer_use.anthropic_planner import AnthropicComputerPlanner

        return AnthropicComputerPlanner(keep_images=settings.agent.planner.keep_images, **common)
    if provider == "openai-responses":
        from cradle.computer_use.openai_planner import OpenAIComputerPlanner

        return OpenAIComputerPlanner(
            environment=settings.agent.planner.environment or platform_environment(environment),
            **common,
        )
    raise UsageError(
        f"provider {provider!r} has no computer-use tool: use --provider (or "
        "--planner-provider) anthropic or openai-responses, or --action-format uitars|qwen "
        "for an open GUI model (UI-TARS, Qwen-VL) on an OpenAI-compatible server"
    )


def platform_environment(environment: str = "") -> Literal["linux", "windows", "mac", "browser"]:
    """What OpenAI's model is told it operates: a browser environment, else the platform."""
    if "browser" in environment.lower():
        return "browser"
    if sys.platform.startswith("win"):
        return "windows"
    return "mac" if sys.platform == "darwin" else "linux"


class PlannerOnlyModel:
    """The general model of a ``--mode computer-use`` run: never asked (the planner alone
    decides), named after the planner's model for prices and the run record."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def model_name(self) -> str:
        return self._name

    def complete(self, request: ModelRequest) -> ModelReply:
        raise ModelError(f"{request.module}: --mode computer-use asks only the planner")

    def close(self) -> None:
        return None


def planner_only(settings: RuntimeSettings) -> PlannerOnlyModel | None:
    """The stand-in general model of a ``--mode computer-use`` run (None in other modes)."""
    if settings.agent.mode != "computer-use":
        return None
    return PlannerOnlyModel(settings.agent.planner.model or settings.model.model)
