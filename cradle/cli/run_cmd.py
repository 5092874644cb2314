"""``cradle run``: one task in one environment (or a task of a task file, or a batch of
instructions with ``--tasks-file``), and ``--resume`` of an interrupted run.

Registered on the main app in ``cradle/cli/app.py``. Its flags are option groups
(:mod:`cradle.cli.option_groups`): the model, loop, budget, planner and cluster groups are the
ones ``cradle eval`` takes too; the groups below are ``cradle run``'s own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cradle.cli import cluster_options as cl
from cradle.cli import gui_options as gui
from cradle.cli import model_options as opt
from cradle.cli.option_groups import SettingDefault, given, option_groups

if TYPE_CHECKING:
    from cradle.episode import EpisodeSettings
    from cradle.runtime import MemorySettings, SafetySettings
    from cradle.types import Task


def _episode_fields() -> type:
    from cradle.episode import EpisodeSettings

    return EpisodeSettings


def _safety_fields() -> type:
    from cradle.runtime import SafetySettings

    return SafetySettings


RunsDir = Annotated[
    Path, typer.Option("--runs-dir", help="Folder that receives one sub-folder per run.")
]
RUNS_DIR = SettingDefault(_episode_fields, "runs_dir")
"""``--runs-dir``'s default: the settings' own."""


@dataclass
class TargetOptions:
    """What to run: an environment and a task, or a task of a task file."""

    env: Annotated[
        str | None, typer.Option("--env", help="Environment name (see `cradle envs`).")
    ] = None
    task: Annotated[
        str | None, typer.Option("--task", help="What the agent should do, in words.")
    ] = None
    task_file: Annotated[
        Path | None,
        typer.Option(
            "--task-file",
            help="Run a task of this task file (YAML or JSON) instead "
            "of --env/--task: its setup, step limit and timeout apply, its checks "
            "decide (exit 0 only when they pass; the model's done is a claim).",
        ),
    ] = None
    task_id: Annotated[
        str | None,
        typer.Option(
            "--task-id",
            help="With --task-file: the id of the task to run (needed "
            "when the file holds several).",
        ),
    ] = None
    env_option: Annotated[
        list[str] | None,
        typer.Option("--env-option", help="Environment option key=value (repeatable)."),
    ] = None


@dataclass
class ResumeOptions:
    """Continue an interrupted run instead of starting one."""

    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            help="Continue the interrupted run in this folder instead "
            "(with --tasks-file: the batch in this folder).",
        ),
    ] = None
    restore: Annotated[
        bool | None,
        typer.Option(
            "--restore/--no-restore",
            help="With --resume: re-apply the recorded actions first (default: only "
            "for mocked environments, whose app starts fresh).",
        ),
    ] = None


@dataclass
class BatchOptions:
    """A batch of instructions, each its own episode (``cradle run --tasks-file``)."""

    tasks_file: Annotated[
        Path | None,
        typer.Option(
            "--tasks-file",
            help="Run each line of this text file (an instruction; "
            "# starts a comment) as its own episode of --env, through cradle eval's "
            "pool: --workers at once here, or on a Ray cluster (--ray); results in "
            "--out. No checks: an episode passes when the model declares it done.",
        ),
    ] = None
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="With --tasks-file: folder for results.jsonl, summary.json, "
            "report.html, runs/ and logs/ (default batch-results).",
            show_default=False,
        ),
    ] = None


@dataclass
class LimitOptions:
    """The step and wall-time budgets of one episode."""

    max_steps: Annotated[int, typer.Option("--max-steps", min=1, help="Step budget.")] = (
        SettingDefault(opt.agent_fields, "max_steps")
    )
    max_time: Annotated[
        float | None, typer.Option("--max-time", min=1, help="Wall-time budget in seconds.")
    ] = None


@dataclass
class StorageOptions:
    """Where runs and the skills the model writes are kept."""

    runs_dir: RunsDir = RUNS_DIR
    generated_skills_dir: Annotated[
        Path,
        typer.Option("--generated-skills-dir", help="Where skills the model writes are saved."),
    ] = SettingDefault(_episode_fields, "generated_skills_dir")


@dataclass
class MemoryOptions:
    """Long-term memory of one run."""

    memory_dir: Annotated[
        Path | None,
        typer.Option("--memory-dir", help="Long-term memory folder (embedded chromadb)."),
    ] = None
    memory_url: Annotated[
        str | None,
        typer.Option(
            "--memory-url", help="Chroma server for shared memory, e.g. http://127.0.0.1:8000."
        ),
    ] = None
    no_memory: Annotated[
        bool, typer.Option("--no-memory", help="Run without long-term memory.")
    ] = False
    memory_optional: Annotated[
        bool,
        typer.Option(
            "--memory-optional",
            help="If the memory store is unusable, run without it instead of stopping.",
        ),
    ] = False

    def settings(self) -> MemorySettings:
        from cradle.runtime import MemorySettings

        return MemorySettings(
            enabled=not self.no_memory,
            memory_dir=self.memory_dir,
            memory_url=self.memory_url,
            continue_without=self.memory_optional,
        )


@dataclass
class SafetyOptions:
    """What the run may do on this desktop: dry run, confirmation, skill lists, secrets."""

    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Run the whole loop but send no input; record the plan."),
    ] = False
    confirm: Annotated[
        str,
        typer.Option(
            "--confirm",
            help="Ask before actions: risky (default), all or never. "
            "With no terminal, actions that need a yes are refused.",
        ),
    ] = SettingDefault(_safety_fields, "confirm")
    allow_skill: Annotated[
        list[str] | None,
        typer.Option("--allow-skill", help="Only these skills may run (repeatable)."),
    ] = None
    deny_skill: Annotated[
        list[str] | None, typer.Option("--deny-skill", help="Never run this skill (repeatable).")
    ] = None
    secrets_file: Annotated[
        Path | None,
        typer.Option(
            "--secrets-file",
            help="NAME=value lines or a JSON object; the model "
            "writes {secret:NAME}, the value is used only when typing.",
        ),
    ] = None

    def settings(self) -> SafetySettings:
        from cradle.runtime import SafetySettings

        if self.confirm not in ("risky", "all", "never"):
            raise typer.BadParameter("use risky, all or never", param_hint="--confirm")
        return SafetySettings(
            dry_run=self.dry_run,
            confirm=self.confirm,  # type: ignore[arg-type]
            allow_skills=self.allow_skill,
            deny_skills=self.deny_skill or [],
            secrets_file=self.secrets_file,
        )


@dataclass
class RunOptions:
    """Everything ``cradle run`` takes, group by group (the order of its --help)."""

    target: TargetOptions
    resume: ResumeOptions
    batch: BatchOptions
    cluster: cl.ClusterOptions
    service: opt.ServiceOptions
    loop: opt.LoopOptions
    limits: LimitOptions
    budget: opt.BudgetOptions
    request: opt.RequestOptions
    planning: opt.PlannerOptions
    grounding: gui.GroundingOptions
    storage: StorageOptions
    memory: MemoryOptions
    safety: SafetyOptions


@option_groups
def run(ctx: typer.Context, options: RunOptions) -> None:
    """Run the agent on TASK in environment ENV until the model says done (or one task of a
    task file, judged by its checks)."""
    from cradle.cli.console import ConsoleProgress

    if options.batch.tasks_file is not None:
        from cradle.cli.batch_run import run_batch

        raise typer.Exit(run_batch(ctx, options))
    for name in ("out", "workers", "ray", "retries", "shared_out"):
        if given(ctx, name):
            raise typer.BadParameter("needs --tasks-file", param_hint=f"--{name.replace('_', '-')}")
    progress = ConsoleProgress()
    if options.resume.resume is not None:
        _resume(ctx, options)
    picked = _picked_task(options.target)
    settings = episode_settings(options, picked)
    if picked is not None:
        from cradle.cli.task_run import run_task_file

        task = picked.model_copy(update={"env_options": settings.env_options})
        raise typer.Exit(run_task_file(settings, task, progress))
    from cradle.episode import open_episode

    episode = open_episode(settings, progress=progress)  # one runtime, one episode
    for warning in episode.runtime.warnings:
        progress.warn(warning)
    result = episode.run()
    progress.run_finished(result)
    raise typer.Exit(result.exit_code)


def _resume(ctx: typer.Context, options: RunOptions) -> None:
    """``--resume RUN_DIR``: only what the user gave overrides the recorded settings."""
    from cradle.cli.trajectory_cmd import resume_run

    service, request = options.service, options.request
    resume_run(
        options.resume.resume,  # type: ignore[arg-type]
        model=service.model if given(ctx, "model") else None,
        base_url=service.base_url,
        api_key_env=service.api_key_env,
        azure_endpoint=service.azure_endpoint,
        azure_api_version=service.azure_api_version,
        timeout=request.timeout if given(ctx, "timeout") else None,
        max_steps=options.limits.max_steps if given(ctx, "max_steps") else None,
        restore=options.resume.restore,
    )


def _picked_task(target: TargetOptions) -> Task | None:
    """The task file's task to run, or None for --env/--task (both then given)."""
    if target.task_file is not None:
        from cradle.cli.task_run import pick_task

        if target.env is not None or target.task is not None:
            raise typer.BadParameter("give --task-file or --env/--task, not both")
        return pick_task(target.task_file, target.task_id)
    if target.task_id is not None:
        raise typer.BadParameter("--task-id needs --task-file", param_hint="--task-id")
    if target.env is None or target.task is None:
        raise typer.BadParameter("give --env and --task, --task-file FILE, or --resume RUN_DIR")
    return None


def episode_settings(options: RunOptions, picked: Task | None) -> EpisodeSettings:
    """The one episode's settings, from every group (validated once)."""
    from cradle.cli.env_options import parse_env_options
    from cradle.episode import EpisodeSettings

    target = options.target
    env, task = (picked.environment, picked.instruction) if picked else (target.env, target.task)
    safety = options.safety.settings()  # --confirm is checked before the model flags
    return EpisodeSettings(
        env=env,
        task=task,
        runs_dir=options.storage.runs_dir,
        generated_skills_dir=options.storage.generated_skills_dir,
        env_options={
            **(picked.env_options if picked else {}),
            **parse_env_options(target.env_option or []),
        },
        model=opt.model_from(options.service, options.request, options.budget),
        agent=opt.agent_from(
            options.loop,
            options.budget,
            options.planning,
            max_steps=options.limits.max_steps,
            max_seconds=options.limits.max_time,
        ),
        memory=options.memory.settings(),
        safety=safety,
        grounding=options.grounding.settings(options.request.timeout),
    )
