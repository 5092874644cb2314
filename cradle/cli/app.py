"""The ``cradle`` command line: run a session, watch the offline demo, list environments.

Every error the framework raises on purpose ends as one line on stderr and a documented exit
code; only a bug in cradle itself shows a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cradle.errors import EXIT_CODES, CradleError

app = typer.Typer(
    name="cradle",
    help="Agents that use a computer the way a person does: screenshots in, keyboard and mouse "
    "out, around a multimodal model.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_EXIT_HELP = "Exit codes: " + "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items())

RunsDir = Annotated[
    Path, typer.Option("--runs-dir", help="Folder that receives one sub-folder per run.")
]
Mode = Annotated[
    str,
    typer.Option(
        "--mode",
        help="modular: one model call per module (as Cradle does); fused: one call per step.",
    ),
]


def _check_mode(mode: str) -> str:
    if mode not in ("modular", "fused"):
        raise typer.BadParameter("use modular or fused", param_hint="--mode")
    return mode


@app.command(epilog=_EXIT_HELP)
def run(
    env: Annotated[str, typer.Option("--env", help="Environment name (see `cradle envs`).")],
    task: Annotated[str, typer.Option("--task", help="What the agent should do, in words.")],
    model: Annotated[str, typer.Option("--model", help="Model name the server knows.")] = "gpt-4o",
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (vLLM, Ollama, LM "
            "Studio, llama.cpp). Default: OPENAI_BASE_URL, else OpenAI.",
        ),
    ] = None,
    api_key_env: Annotated[
        str, typer.Option("--api-key-env", help="Environment variable that holds the API key.")
    ] = "OPENAI_API_KEY",
    azure_endpoint: Annotated[
        str | None, typer.Option("--azure-endpoint", help="Azure OpenAI endpoint URL.")
    ] = None,
    azure_api_version: Annotated[
        str | None, typer.Option("--azure-api-version", help="Azure OpenAI API version.")
    ] = None,
    mode: Mode = "fused",
    max_steps: Annotated[int, typer.Option("--max-steps", min=1, help="Step budget.")] = 20,
    max_image_side: Annotated[
        int,
        typer.Option("--max-image-side", min=64, help="Screenshots are downscaled to this."),
    ] = 1280,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for one model reply.")
    ] = 120.0,
    runs_dir: RunsDir = Path("runs"),
    generated_skills_dir: Annotated[
        Path,
        typer.Option("--generated-skills-dir", help="Where skills the model writes are saved."),
    ] = Path("generated_skills"),
) -> None:
    """Run the agent on TASK in environment ENV until the model says done."""
    from cradle.agent import AgentSettings
    from cradle.cli.console import ConsoleProgress
    from cradle.session import ModelSettings, Session, SessionSettings

    settings = SessionSettings(
        env=env,
        task=task,
        runs_dir=runs_dir,
        generated_skills_dir=generated_skills_dir,
        model=ModelSettings(
            model=model,
            base_url=base_url,
            api_key_env=api_key_env,
            azure_endpoint=azure_endpoint,
            azure_api_version=azure_api_version,
            timeout=timeout,
        ),
        agent=AgentSettings(
            mode=_check_mode(mode), max_steps=max_steps, max_image_side=max_image_side
        ),
    )
    progress = ConsoleProgress()
    session = Session(settings, progress=progress)
    result = session.run()
    progress.run_finished(result)
    raise typer.Exit(result.exit_code)


@app.command(epilog=_EXIT_HELP)
def demo(runs_dir: RunsDir = Path("runs"), mode: Mode = "modular") -> None:
    """Watch the full loop offline: a SCRIPTED model drives the mocked notepad (no key needed)."""
    from cradle.cli.console import ConsoleProgress
    from cradle.demo import run_demo

    progress = ConsoleProgress()
    progress.console.print(
        "[bold yellow]Demo: the model is SCRIPTED[/bold yellow] (replies are canned, no network, "
        "no key). Every module runs for real on the mocked notepad."
    )
    result = run_demo(runs_dir=runs_dir, mode=_check_mode(mode), progress=progress)
    progress.run_finished(result)
    raise typer.Exit(result.exit_code)


@app.command()
def envs() -> None:
    """List the environments and what they are for."""
    from cradle.environment import discover_environments

    console = Console(highlight=False)
    found = discover_environments()
    if not found:
        console.print("no environments found; check CRADLE_ENVIRONMENTS_PATH")
        raise typer.Exit(1)
    width = max(len(name) for name in found)
    for name, info in sorted(found.items()):
        console.print(f"{name:<{width}}  {info.description}")


def main() -> None:
    """Entry point: turns framework errors into one line and their exit code."""
    try:
        app()
    except CradleError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"cradle: error: {exc}", markup=False
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        Console(stderr=True).print("cradle: interrupted")
        sys.exit(130)
