"""``cradle run --env ENV --tasks-file FILE``: one episode per instruction, through the pool of
``cradle eval`` (locally with ``--workers``, or on a Ray cluster with ``--ray``).

The batch is a suite of unchecked tasks (:mod:`cradle.tasks.batch`) handed to
:func:`cradle.eval.harness.run_eval`: the same worker processes, results.jsonl, summary.json,
report.html and run folders under ``--out``. ``--resume DIR`` continues the batch whose
results are in DIR. The flags that ``cradle run`` applies to one episode on this desktop
(confirmation, dry run, skill allow/deny lists, secrets) have no meaning for workers and are
refused rather than ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cradle.cli import model_options as opt
from cradle.cli.option_groups import given
from cradle.errors import UsageError

if TYPE_CHECKING:
    from cradle.cli.run_cmd import RunOptions
    from cradle.eval.harness import EvalOutcome
    from cradle.types import Task

DEFAULT_OUT = Path("batch-results")
_SINGLE_EPISODE = {
    "task": "--task",
    "task_id": "--task-id",
    "restore": "--restore",
    "dry_run": "--dry-run",
    "confirm": "--confirm",
    "allow_skill": "--allow-skill",
    "deny_skill": "--deny-skill",
    "secrets_file": "--secrets-file",
    "memory_optional": "--memory-optional",
    "task_file": "--task-file",
    "runs_dir": "--runs-dir",
}


def run_batch(ctx: typer.Context, options: RunOptions) -> int:
    """Run the instructions of ``--tasks-file``; the exit code (0: every episode ended with
    the model's done)."""
    from rich.console import Console

    refused = [flag for name, flag in _SINGLE_EPISODE.items() if given(ctx, name)]
    if refused:
        raise UsageError(
            f"{', '.join(refused)}: not with --tasks-file (each instruction runs "
            "as an unattended episode in a worker)"
        )
    if options.target.env is None:
        raise UsageError("--tasks-file needs --env ENV, the environment of every instruction")
    outcome = _run(ctx, options)
    s = outcome.summary
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"{s['passed']}/{s['tasks']} episodes ended with the model's done (a claim: these "
        f"tasks have no checks); {outcome.out / 'summary.json'}, "
        f"{outcome.out / 'report.html'}",
        markup=False,
    )
    return outcome.exit_code


def _run(ctx: typer.Context, options: RunOptions) -> EvalOutcome:
    """The batch through the eval pool, its flags checked in the order a user reads them."""
    from cradle.cli.eval_cmd import check_model, memory_json
    from cradle.eval.harness import EvalOptions, run_eval

    out = _out(options.batch.out, options.resume.resume)
    shared = options.cluster.shared_folder()
    tasks = _tasks(options)
    model = opt.model_from(options.service, options.request, options.budget)
    check_model(model)
    agent = opt.agent_from(options.loop, options.budget, options.planning)
    if options.grounding.grounding_base_url or options.grounding.grounding_model:
        raise UsageError(
            "--grounding-base-url: not with --tasks-file (its workers are given "
            "no grounding model); run the instructions one by one with --task"
        )
    skills_dir = options.storage.generated_skills_dir
    memory = options.memory
    return run_eval(
        EvalOptions(
            tasks=tasks,
            out=out,
            workers=options.cluster.workers,
            resume=options.resume.resume is not None,
            mode="model",
            model=model.model_dump(mode="json"),
            agent=agent.model_dump(mode="json", exclude_unset=True),
            memory=memory_json(memory.memory_url, memory.memory_dir, memory.no_memory),
            generated_skills_dir=(
                skills_dir.absolute() if given(ctx, "generated_skills_dir") else None
            ),
            ray=options.cluster.ray,
            retries=options.cluster.retries,
            shared_out=shared,
        )
    )


def _tasks(options: RunOptions) -> list[Task]:
    """One unchecked task per instruction of --tasks-file, in --env."""
    from cradle.cli.env_options import parse_env_options
    from cradle.tasks.batch import instruction_tasks

    env = options.target.env
    _known_environment(env)  # type: ignore[arg-type]
    return instruction_tasks(
        options.batch.tasks_file,  # type: ignore[arg-type]
        environment=env,  # type: ignore[arg-type]
        env_options=parse_env_options(options.target.env_option or []),
        max_steps=options.limits.max_steps,
        timeout=options.limits.max_time,
    )


def _out(out: Path | None, resume: Path | None) -> Path:
    """The batch's folder: --out, or the folder --resume continues."""
    if resume is not None and out is not None and out.resolve() != resume.resolve():
        raise UsageError(
            "with --tasks-file, --resume DIR continues the batch in DIR: give "
            "--resume or --out, not two folders"
        )
    if resume is not None and not (resume / "results.jsonl").is_file():
        raise UsageError(f"--resume {resume}: no results.jsonl of a batch in it")
    return resume or out or DEFAULT_OUT


def _known_environment(name: str) -> None:
    from cradle.environment import discover_environments
    from cradle.errors import UnknownEnvironmentError

    known = discover_environments()
    if name not in known:
        raise UnknownEnvironmentError(
            f"unknown environment {name!r}; known: {', '.join(sorted(known))} (see `cradle envs`)"
        )
