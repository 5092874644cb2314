"""``cradle models check``: what the model endpoint supports, asked before a long run.

Registered on the main app in ``cradle/cli/app.py``; the checks are in
:mod:`cradle.llm.capabilities`. The model flags are the ones ``cradle run`` takes, so the same
command line (with ``models check`` instead of ``run``) checks what a run would use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from cradle.cli import model_options as opt
from cradle.cli.option_groups import option_groups

models_app = typer.Typer(
    name="models",
    help="Check a model endpoint before a run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_HELP = (
    "Exit codes: 0 everything the --mode needs works; 1 something it needs does "
    "not; 2 bad usage (unknown flag value, no API key)."
)
CheckMode = Annotated[
    str,
    typer.Option(
        "--mode",
        help="The run to check for: modular or fused (text, structured "
        "output, images) or computer-use (the computer tool where the API has one, "
        "images).",
    ),
]


CheckTimeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=1,
        max=600,
        help="Seconds to wait for each reply (each check is one request, "
        "two with a repair or a structured-output fallback).",
    ),
]
CheckRetries = Annotated[
    int,
    typer.Option(
        "--max-retries", min=0, max=5, help="Retries on 429/5xx/connection errors, per request."
    ),
]


@dataclass
class CheckOptions:
    """What to check for and how patiently: a check asks little and should fail fast."""

    mode: CheckMode = "fused"
    no_vision: opt.NoVision = False
    response_mode: opt.ResponseMode = None
    max_output_tokens: opt.MaxOutputTokens = None
    timeout: CheckTimeout = 30.0
    max_retries: CheckRetries = 0


@models_app.command(epilog=EXIT_HELP)
@option_groups
def check(service: opt.ServiceOptions, checks: CheckOptions) -> None:
    """One small request per capability a run needs (text reply, image input, structured
    output, computer tool); prints what works, exit 0 when everything the --mode needs does."""
    from rich.console import Console

    from cradle.llm.capabilities import CHECK_MODES, run_checks

    mode = checks.mode
    if mode not in CHECK_MODES:
        raise typer.BadParameter(f"use {', '.join(CHECK_MODES)}", param_hint="--mode")
    request = opt.RequestOptions(
        timeout=checks.timeout,
        max_retries=checks.max_retries,
        max_output_tokens=checks.max_output_tokens,
        response_mode=checks.response_mode,
    )
    client = opt.model_from(service, request).build_provider()  # no key: usage error, exit 2
    console = Console(highlight=False, soft_wrap=True)
    try:
        where = getattr(client, "base_url", None) or "the provider's default"
        console.print(
            f"{service.provider} model {service.model!r} at {where}, for --mode {mode}"
            f"{' --no-vision' if checks.no_vision else ''}",
            markup=False,
        )
        results = run_checks(client, mode=mode, vision=not checks.no_vision)
    finally:
        client.close()
    for line in table(results):
        console.print(line, markup=False)
    missing = [r for r in results if not r.passed]
    if missing:
        console.print(f"not ready for --mode {mode}: {_missing(missing)}", markup=False)
        raise typer.Exit(1)
    console.print(f"ready for --mode {mode}", markup=False)


def _missing(missing: list) -> str:
    """What is missing, with the flag that helps when it is image input."""
    hint = (
        " (or run with --no-vision)"
        if any(r.name == "image input" and r.status != "skipped" for r in missing)
        else ""
    )
    return f"{', '.join(f'{r.name} {r.status}' for r in missing)}{hint}"


def table(results: list) -> list[str]:
    """The results as plain text rows (no colours or box characters: readable in a log)."""
    rows = [("capability", "needed", "result", "ms", "detail")]
    rows.extend(
        (
            r.name,
            "yes" if r.needed else "no",
            r.status,
            "-" if r.latency_ms is None else f"{r.latency_ms:.0f}",
            r.detail,
        )
        for r in results
    )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)), row[4]]
        ).rstrip()
        for row in rows
    ]
