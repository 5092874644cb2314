"""The ``cradle`` command line: the app, the offline demo, the environment list; ``cradle run``
is in :mod:`cradle.cli.run_cmd`, the other commands in their own modules.

Every error the framework raises on purpose ends as one line on stderr and a documented exit
code; only a bug in cradle itself shows a traceback.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from cradle.cli.model_options import Mode, check_mode
from cradle.cli.run_cmd import RUNS_DIR, RunsDir, run
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


app.command(epilog=_EXIT_HELP)(run)


@app.command(epilog=_EXIT_HELP)
def demo(runs_dir: RunsDir = RUNS_DIR, mode: Mode = "modular") -> None:
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
