"""The ``cradle`` command line: run a session, watch the offline demo, list environments.

Every error the framework raises on purpose ends as one line on stderr and a documented exit
code; only a bug in cradle itself shows a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from cradle.cli import cluster_options as cl
from cradle.cli import gui_options as gui
from cradle.cli import model_options as opt
from cradle.cli.model_options import Mode, check_mode
from cradle.errors import EXIT_CODES, EXIT_INTERRUPTED, CradleError

if TYPE_CHECKING:
    from cradle.signals import Stopped

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


def _print_version(value: bool) -> None:
    """``--version``: the installed distribution's version; a bare checkout's own otherwise."""
    if not value:
        return
    from importlib import metadata

    try:
        version = metadata.version("cradle")
    except metadata.PackageNotFoundError:
        from cradle import __version__ as version
    print(f"cradle {version}")
    raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print cradle's version and exit.",
        ),
    ] = False,
) -> None:
    """Options that come before any command (the help text is the app's own)."""


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the user set option ``name`` (and did not just get its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


@app.command(epilog=_EXIT_HELP)
def run(
    ctx: typer.Context,
    env: Annotated[
        str | None, typer.Option("--env", help="Environment name (see `cradle envs`).")
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="What the agent should do, in words.")
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            help="Continue the interrupted run in this folder instead "
            "(with --tasks-file: the batch in this folder).",
        ),
    ] = None,
    restore: Annotated[
        bool | None,
        typer.Option(
            "--restore/--no-restore",
            help="With --resume: re-apply the recorded actions first (default: only "
            "for mocked environments, whose app starts fresh).",
        ),
    ] = None,
    task_file: Annotated[
        Path | None,
        typer.Option(
            "--task-file",
            help="Run a task of this task file (YAML or JSON) instead "
            "of --env/--task: its setup, step limit and timeout apply, its checks "
            "decide (exit 0 only when they pass; the model's done is a claim).",
        ),
    ] = None,
    task_id: Annotated[
        str | None,
        typer.Option(
            "--task-id",
            help="With --task-file: the id of the task to run (needed "
            "when the file holds several).",
        ),
    ] = None,
    tasks_file: Annotated[
        Path | None,
        typer.Option(
            "--tasks-file",
            help="Run each line of this text file (an instruction; "
            "# starts a comment) as its own episode of --env, through cradle eval's "
            "pool: --workers at once here, or on a Ray cluster (--ray); results in "
            "--out. No checks: an episode passes when the model declares it done.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="With --tasks-file: folder for results.jsonl, summary.json, "
            "report.html, runs/ and logs/ (default batch-results).",
            show_default=False,
        ),
    ] = None,
    workers: cl.Workers = 1,
    ray: cl.Ray = None,
    retries: cl.Retries = 1,
    shared_out: cl.SharedOut = None,
    provider: opt.Provider = "openai",
    model: opt.Model = "gpt-4o",
    base_url: opt.BaseUrl = None,
    api_key_env: opt.ApiKeyEnv = None,
    azure_endpoint: opt.AzureEndpoint = None,
    azure_api_version: opt.AzureApiVersion = None,
    mode: Mode = "fused",
    env_option: Annotated[
        list[str] | None,
        typer.Option("--env-option", help="Environment option key=value (repeatable)."),
    ] = None,
    max_steps: Annotated[int, typer.Option("--max-steps", min=1, help="Step budget.")] = 20,
    max_time: Annotated[
        float | None, typer.Option("--max-time", min=1, help="Wall-time budget in seconds.")
    ] = None,
    max_tokens: opt.MaxTokens = None,
    max_cost: opt.MaxCost = None,
    price_in: opt.PriceIn = None,
    price_out: opt.PriceOut = None,
    prices: opt.Prices = None,
    max_image_side: opt.MaxImageSide = 1280,
    max_actions: opt.MaxActions = 20,
    settle: opt.Settle = None,
    timeout: opt.ModelTimeout = 60.0,
    max_retries: opt.MaxRetries = 2,
    no_vision: opt.NoVision = False,
    max_output_tokens: opt.MaxOutputTokens = None,
    response_mode: opt.ResponseMode = None,
    planner: opt.Planner = "model",
    planner_model: opt.PlannerModel = None,
    planner_provider: opt.PlannerProvider = None,
    planner_base_url: opt.PlannerBaseUrl = None,
    action_format: gui.ActionFormat = None,
    coordinates: gui.CoordinatesOpt = None,
    coordinates_grid: gui.CoordinatesGrid = None,
    grounding_base_url: gui.GroundingBaseUrl = None,
    grounding_model: gui.GroundingModel = None,
    grounding_format: gui.GroundingFormat = "point",
    grounding_coordinates: gui.GroundingCoordinates = None,
    grounding_coordinates_grid: gui.GroundingCoordinatesGrid = None,
    runs_dir: RunsDir = Path("runs"),
    generated_skills_dir: Annotated[
        Path,
        typer.Option("--generated-skills-dir", help="Where skills the model writes are saved."),
    ] = Path("generated_skills"),
    memory_dir: Annotated[
        Path | None,
        typer.Option("--memory-dir", help="Long-term memory folder (embedded chromadb)."),
    ] = None,
    memory_url: Annotated[
        str | None,
        typer.Option(
            "--memory-url", help="Chroma server for shared memory, e.g. http://127.0.0.1:8000."
        ),
    ] = None,
    no_memory: Annotated[
        bool, typer.Option("--no-memory", help="Run without long-term memory.")
    ] = False,
    memory_optional: Annotated[
        bool,
        typer.Option(
            "--memory-optional",
            help="If the memory store is unusable, run without it instead of stopping.",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Run the whole loop but send no input; record the plan."),
    ] = False,
    confirm: Annotated[
        str,
        typer.Option(
            "--confirm",
            help="Ask before actions: risky (default), all or never. "
            "With no terminal, actions that need a yes are refused.",
        ),
    ] = "risky",
    allow_skill: Annotated[
        list[str] | None,
        typer.Option("--allow-skill", help="Only these skills may run (repeatable)."),
    ] = None,
    deny_skill: Annotated[
        list[str] | None, typer.Option("--deny-skill", help="Never run this skill (repeatable).")
    ] = None,
    secrets_file: Annotated[
        Path | None,
        typer.Option(
            "--secrets-file",
            help="NAME=value lines or a JSON object; the model "
            "writes {secret:NAME}, the value is used only when typing.",
        ),
    ] = None,
) -> None:
    """Run the agent on TASK in environment ENV until the model says done (or one task of a
    task file, judged by its checks)."""
    from cradle.cli.console import ConsoleProgress
    from cradle.episode import EpisodeSettings
    from cradle.runtime import MemorySettings, SafetySettings

    if tasks_file is not None:
        from cradle.cli.batch_run import run_batch

        raise typer.Exit(run_batch(ctx))
    for name in ("out", "workers", "ray", "retries", "shared_out"):
        if _given(ctx, name):
            raise typer.BadParameter("needs --tasks-file", param_hint=f"--{name.replace('_', '-')}")
    progress = ConsoleProgress()
    if resume is not None:
        from cradle.cli.trajectory_cmd import resume_run

        # Only what the user gave overrides the recorded settings.
        resume_run(
            resume,
            model=model if _given(ctx, "model") else None,
            base_url=base_url,
            api_key_env=api_key_env,
            azure_endpoint=azure_endpoint,
            azure_api_version=azure_api_version,
            timeout=timeout if _given(ctx, "timeout") else None,
            max_steps=max_steps if _given(ctx, "max_steps") else None,
            restore=restore,
        )
    picked = None
    if task_file is not None:
        from cradle.cli.task_run import pick_task

        if env is not None or task is not None:
            raise typer.BadParameter("give --task-file or --env/--task, not both")
        picked = pick_task(task_file, task_id)
        env, task = picked.environment, picked.instruction
    elif task_id is not None:
        raise typer.BadParameter("--task-id needs --task-file", param_hint="--task-id")
    if env is None or task is None:
        raise typer.BadParameter("give --env and --task, --task-file FILE, or --resume RUN_DIR")
    if confirm not in ("risky", "all", "never"):
        raise typer.BadParameter("use risky, all or never", param_hint="--confirm")
    from cradle.cli.env_options import parse_env_options

    settings = EpisodeSettings(
        env=env,
        task=task,
        runs_dir=runs_dir,
        generated_skills_dir=generated_skills_dir,
        env_options={
            **(picked.env_options if picked else {}),
            **parse_env_options(env_option or []),
        },
        model=opt.model_settings(
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
            prices=prices,
            max_output_tokens=max_output_tokens,
            response_mode=response_mode,
        ),
        agent=opt.agent_settings(
            mode=mode,
            max_image_side=max_image_side,
            max_actions=max_actions,
            settle=settle,
            max_tokens=max_tokens,
            max_cost=max_cost,
            max_steps=max_steps,
            max_seconds=max_time,
            no_vision=no_vision,
            planner=opt.planner_settings(
                planner=planner,
                planner_model=planner_model,
                planner_provider=planner_provider,
                planner_base_url=planner_base_url,
            ),
        ),
        memory=MemorySettings(
            enabled=not no_memory,
            memory_dir=memory_dir,
            memory_url=memory_url,
            continue_without=memory_optional,
        ),
        safety=SafetySettings(
            dry_run=dry_run,
            confirm=confirm,  # type: ignore[arg-type]
            allow_skills=allow_skill,
            deny_skills=deny_skill or [],
            secrets_file=secrets_file,
        ),
        grounding=gui.grounding_settings(
            base_url=grounding_base_url,
            model=grounding_model,
            fmt=grounding_format,
            coordinates=grounding_coordinates,
            grid=grounding_coordinates_grid,
            timeout=timeout,
        ),
    )
    gui.set_action_format(
        settings.agent, gui.action_format_settings(action_format, coordinates, coordinates_grid)
    )
    if picked is not None:
        from cradle.cli.task_run import run_task_file

        raise typer.Exit(
            run_task_file(
                settings, picked.model_copy(update={"env_options": settings.env_options}), progress
            )
        )
    from cradle.episode import open_episode

    episode = open_episode(settings, progress=progress)  # one runtime, one episode
    for warning in episode.runtime.warnings:
        progress.warn(warning)
    result = episode.run()
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
    result = run_demo(runs_dir=runs_dir, mode=check_mode(mode), progress=progress)
    progress.run_finished(result)
    raise typer.Exit(result.exit_code)


@app.command()
def envs(
    check: Annotated[
        bool, typer.Option("--check", help="Start each environment and check its contract.")
    ] = False,
) -> None:
    """List the environments and what they are for."""
    from cradle.environment import discover_environments

    console = Console(highlight=False, soft_wrap=True)
    found = discover_environments()
    if not found:
        console.print("no environments found; check CRADLE_ENVIRONMENTS_PATH")
        raise typer.Exit(1)
    width = max(len(name) for name in found)
    failed = 0
    for name, info in sorted(found.items()):
        console.print(f"{name:<{width}}  {info.description}", markup=False)
        if info.cls.option_help:
            console.print(
                f"{'':<{width}}  options: {', '.join(info.cls.option_help)}", markup=False
            )
        if not check:
            continue
        from cradle.environment_check import check_environment

        problems = check_environment(info.create())
        failed += bool(problems)
        for problem in problems or ["contract ok"]:
            console.print(f"{'':<{width}}  - {problem}", markup=False)
    if failed:
        raise typer.Exit(1)


def _register_subcommands() -> None:
    from cradle.cli import bench_cmd, eval_cmd, trajectory_cmd
    from cradle.cli.memory_cmd import memory_app
    from cradle.cli.models_cmd import models_app
    from cradle.cli.skills_cmd import skills_app

    skills_app.command("from-run")(trajectory_cmd.skills_from_run)
    app.add_typer(skills_app, name="skills")
    app.add_typer(memory_app, name="memory")
    app.add_typer(models_app, name="models")
    app.command(epilog=_EXIT_HELP)(trajectory_cmd.replay)
    app.command()(trajectory_cmd.report)
    app.command("export-video")(trajectory_cmd.export_video)
    app.command()(trajectory_cmd.record)
    app.command()(bench_cmd.bench)
    app.command("eval", help=eval_cmd.HELP, epilog=eval_cmd.EXIT_HELP)(eval_cmd.eval_)


_register_subcommands()


def _check_arguments(argv: list[str]) -> None:
    """Every argument must be UTF-8: runs record them as UTF-8 JSON (see cradle.inputs)."""
    from cradle.inputs import check_text, not_utf8

    for index, arg in enumerate(argv):
        if not_utf8(arg) is None:
            continue
        if arg.startswith("--") and "=" in arg:
            flag, _, value = arg.partition("=")
            check_text(value, flag)
        flag = argv[index - 1] if index and argv[index - 1].startswith("-") else None
        check_text(arg, flag or f"argument {index + 1}")


def _exit_stopped(stop: Stopped) -> NoReturn:
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"cradle: {stop.reason}", markup=False
    )
    sys.exit(stop.exit_code)


def main() -> None:
    """Entry point: turns framework errors into one line and their exit code.

    SIGINT, SIGTERM and SIGHUP are cradle's own for the whole command (cradle/signals.py): a
    stop that no run turned into its result ends the process with one line and 128 + signal.
    """
    from cradle.signals import last_stop, stop_of, stop_signals

    try:
        with stop_signals():
            _check_arguments(sys.argv[1:])
            app()
    except CradleError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"cradle: error: {exc}", markup=False
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        _exit_stopped(stop_of(exc))
    except SystemExit as exc:
        stop = last_stop()  # typer turns a KeyboardInterrupt it catches into exit 130
        if exc.code == EXIT_INTERRUPTED and stop is not None and stop.exit_code != exc.code:
            _exit_stopped(stop)
        raise
