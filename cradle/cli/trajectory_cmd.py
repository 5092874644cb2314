"""CLI commands over run folders: replay, resume, report, export-video, record, skills from-run.

They are plain functions with typer annotations, registered on the main app in
``cradle/cli/app.py`` (``app.command()(replay)``, ...). Imports happen inside the functions so
``cradle --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cradle.cli.model_options import agent_fields
from cradle.cli.option_groups import SettingDefault

RunDir = Annotated[Path, typer.Argument(help="A run folder (holds run.json and trajectory.jsonl).")]


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _load(run_dir: Path) -> Any:
    from rich.markup import escape

    from cradle.trajectory.loader import load_run

    run = load_run(run_dir)
    console = _console()
    for warning in run.warnings:
        console.print(f"[yellow]warning[/yellow]: {escape(warning)}")
    return run


ReplayEnv = Annotated[
    str | None, typer.Option("--env", help="Replay on this environment instead of the run's.")
]
Speed = Annotated[
    float, typer.Option("--speed", min=0.01, help="Divides --min-delay (nothing else).")
]
Threshold = Annotated[
    float,
    typer.Option(
        "--threshold",
        min=0.0,
        max=1.0,
        help="Largest fraction of changed pixels accepted before a step.",
    ),
]
SettleTimeout = Annotated[
    float, typer.Option("--timeout", min=0.0, help="Seconds to wait for the screen to settle.")
]
MinDelay = Annotated[
    float, typer.Option("--min-delay", min=0.0, help="Seconds to wait at least per step.")
]
ModelReplies = Annotated[
    bool,
    typer.Option(
        "--model-replies",
        help="Rerun the agent loop answered by the recorded model replies (no "
        "network), into a NEW run folder.",
    ),
]
RerunDir = Annotated[
    Path | None,
    typer.Option(
        "--runs-dir",
        help="With --model-replies: where the new run goes (default: beside the recorded run).",
    ),
]


def _replay_fields() -> type:
    from cradle.playback.replay import ReplayOptions

    return ReplayOptions


def _report_fields() -> type:
    from cradle.trajectory.report import ReportOptions

    return ReportOptions


def _video_fields() -> type:
    from cradle.trajectory.video import VideoOptions

    return VideoOptions


def _episode_fields() -> type:
    from cradle.episode import EpisodeSettings

    return EpisodeSettings


SPEED = SettingDefault(_replay_fields, "speed")
THRESHOLD = SettingDefault(_replay_fields, "threshold")
SETTLE_TIMEOUT = SettingDefault(_replay_fields, "timeout")
MIN_DELAY = SettingDefault(_replay_fields, "min_delay")
MAX_IMAGE_WIDTH = SettingDefault(_report_fields, "max_image_width")
FPS = SettingDefault(_video_fields, "fps")
FRAMES_PER_STEP = SettingDefault(_video_fields, "frames_per_step")
RUNS_DIR = SettingDefault(_episode_fields, "runs_dir")
MAX_IMAGE_SIDE = SettingDefault(agent_fields, "max_image_side")
GENERATED_SKILLS_DIR = SettingDefault(_episode_fields, "generated_skills_dir")
"""The defaults of these commands: their settings' own, read when shown or parsed."""


def replay(
    run_dir: RunDir,
    env: ReplayEnv = None,
    speed: Speed = SPEED,
    threshold: Threshold = THRESHOLD,
    timeout: SettleTimeout = SETTLE_TIMEOUT,
    min_delay: MinDelay = MIN_DELAY,
    model_replies: ModelReplies = False,
    runs_dir: RerunDir = None,
) -> None:
    """Replay RUN_DIR without a model: re-execute its ok actions, checking the screen each step.

    Stops with exit 1 when the live screen differs from the recorded one beyond --threshold,
    saving the live frame in RUN_DIR/replay-<time>/.
    """
    from rich.markup import escape

    console = _console()
    if model_replies:
        from cradle.cli.console import ConsoleProgress
        from cradle.playback.resume import rerun_with_model_replies

        progress = ConsoleProgress()
        result, _ = rerun_with_model_replies(run_dir, runs_dir=runs_dir, progress=progress)
        progress.run_finished(result)
        raise typer.Exit(result.exit_code)

    from cradle.playback.replay import ReplayOptions, replay_run

    run = _load(run_dir)
    options = ReplayOptions(threshold=threshold, timeout=timeout, speed=speed, min_delay=min_delay)
    report = replay_run(
        run, env=env, options=options, on_event=lambda line: console.print(f"  {escape(line)}")
    )
    style = "green" if report.ok else "red"
    console.print(
        f"[{style}]{'replayed' if report.ok else 'stopped'}[/{style}]: {escape(report.reason())}"
    )
    console.print(f"replay folder: {report.output_dir}")
    raise typer.Exit(report.exit_code)


def resume_run(
    run_dir: RunDir,
    model: Annotated[
        str | None, typer.Option("--model", help="Model name (default: recorded).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server (default: recorded).")
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option("--api-key-env", help="Variable holding the API key.")
    ] = None,
    azure_endpoint: Annotated[str | None, typer.Option("--azure-endpoint")] = None,
    azure_api_version: Annotated[str | None, typer.Option("--azure-api-version")] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=1, help="Seconds to wait for one reply.")
    ] = None,
    max_steps: Annotated[
        int | None,
        typer.Option("--max-steps", min=1, help="Total step budget, recorded steps included."),
    ] = None,
    restore: Annotated[
        bool | None,
        typer.Option(
            "--restore/--no-restore",
            help="Re-apply the recorded actions first (default: only for mocked "
            "environments, whose app starts fresh).",
        ),
    ] = None,
) -> None:
    """Continue an interrupted or killed run in RUN_DIR from its last complete step."""
    from cradle.cli.console import ConsoleProgress
    from cradle.playback.resume import resume_session, settings_from_run
    from cradle.trajectory.loader import load_run

    overrides = {
        "model": model,
        "base_url": base_url,
        "api_key_env": api_key_env,
        "azure_endpoint": azure_endpoint,
        "azure_api_version": azure_api_version,
        "timeout": timeout,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    model_settings = None
    if overrides:  # validated with the overrides, as a new run's settings are
        recorded = settings_from_run(load_run(run_dir)).model
        model_settings = type(recorded).model_validate({**recorded.model_dump(), **overrides})
    progress = ConsoleProgress()
    result = resume_session(
        run_dir,
        model_settings=model_settings,
        max_steps=max_steps,
        restore=restore,
        progress=progress,
    )
    progress.run_finished(result)
    raise typer.Exit(result.exit_code)


def report(
    run_dir: RunDir,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default RUN_DIR/report.html).")
    ] = None,
    price_in: Annotated[
        float | None, typer.Option("--price-in", min=0, help="Price per 1M input tokens.")
    ] = None,
    price_out: Annotated[
        float | None, typer.Option("--price-out", min=0, help="Price per 1M output tokens.")
    ] = None,
    max_image_width: Annotated[
        int,
        typer.Option(
            "--max-image-width", min=64, help="Inlined screenshots are at most this wide."
        ),
    ] = MAX_IMAGE_WIDTH,
) -> None:
    """Write a self-contained HTML report of RUN_DIR (images inlined, nothing loaded online)."""
    from cradle.trajectory.report import ReportOptions, write_report

    run = _load(run_dir)
    options = ReportOptions(max_image_width=max_image_width, price_in=price_in, price_out=price_out)
    path = write_report(run, out, options)
    typer.echo(str(path))


def export_video(
    run_dir: RunDir,
    out: Annotated[
        Path | None, typer.Option("--out", help="The mp4 to write (default RUN_DIR/run.mp4).")
    ] = None,
    fps: Annotated[float, typer.Option("--fps", min=0.1, help="Frames per second.")] = FPS,
    frames_per_step: Annotated[
        int, typer.Option("--frames-per-step", min=1, help="Frames showing each step.")
    ] = FRAMES_PER_STEP,
) -> None:
    """Write an mp4 of RUN_DIR: each step's screenshot with its actions drawn on it."""
    from cradle.trajectory.video import VideoOptions
    from cradle.trajectory.video import export_video as write_video

    run = _load(run_dir)
    path = out or run_dir / "run.mp4"
    frames = write_video(run, path, VideoOptions(fps=fps, frames_per_step=frames_per_step))
    _console().print(f"{frames} frame(s) written")
    typer.echo(str(path))


def record(
    env: Annotated[str, typer.Option("--env", help="Environment to record (e.g. desktop).")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Run folder to create (new or empty); default a new folder under --runs-dir.",
        ),
    ] = None,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Where runs go.")] = RUNS_DIR,
    task: Annotated[str, typer.Option("--task", help="What the demonstration shows.")] = "",
    max_image_side: Annotated[
        int, typer.Option("--max-image-side", min=64, help="Model-image size actions map to.")
    ] = MAX_IMAGE_SIDE,
    stop_keys: Annotated[
        str, typer.Option("--stop-keys", help="Chord that ends the recording.")
    ] = "ctrl+shift+q",
) -> None:
    """Record a person using the computer as a run (clicks, drags, scrolls, typing, hotkeys).

    Stops on the stop chord (default ctrl+shift+q), Ctrl+C in this terminal, SIGTERM or
    SIGHUP; each keeps the recording complete (exit 0, the reason names a signal).
    """
    from rich.markup import escape

    from cradle.playback.demonstration import record_demonstration

    console = _console()
    chord = tuple(k.strip().lower() for k in stop_keys.split("+") if k.strip())
    if len(chord) < 2:
        raise typer.BadParameter("give a chord such as ctrl+shift+q", param_hint="--stop-keys")
    result = record_demonstration(
        env,
        out=out,
        runs_dir=runs_dir,
        task=task,
        max_image_side=max_image_side,
        stop_chord=chord,
        on_action=lambda source: console.print(f"  act  {escape(source)}"),
        on_ready=lambda: console.print(f"recording; stop with {'+'.join(chord)} or Ctrl+C here"),
    )
    console.print(f"[green]{result.status}[/green]: {escape(result.reason)}")
    console.print(f"run folder: {result.run_dir}")
    raise typer.Exit(result.exit_code)


def skills_from_run(
    run_dir: RunDir,
    name: Annotated[str, typer.Option("--name", help="Name of the new skill (snake_case).")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the skill file (loaded as untrusted).")
    ] = GENERATED_SKILLS_DIR,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a skill that performs RUN_DIR's ok actions, typed texts as parameters."""
    from cradle.environment import discover_environments
    from cradle.errors import UsageError
    from cradle.paths import shared_skills_dir
    from cradle.playback.to_skill import skill_from_run
    from cradle.skills import SkillRegistry

    run = _load(run_dir)
    folders = [shared_skills_dir()]
    found = discover_environments().get(run.info.environment)
    if found is not None and (found.folder / "skills").is_dir():
        folders.append(found.folder / "skills")
    registry = SkillRegistry.load(trusted=folders, untrusted=[out] if out.is_dir() else [])
    source = skill_from_run(run, name, known_skills=registry.names())
    registry.add_untrusted(source, origin={"run_id": run.info.run_id})  # proves it loads
    path = out / f"{name}.py"
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; use --force to overwrite")
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    typer.echo(str(path))
