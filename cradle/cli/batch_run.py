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
from typing import Any

import typer

from cradle.cli import cluster_options as cl
from cradle.cli import gui_options as gui
from cradle.cli import model_options as opt
from cradle.errors import UsageError

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


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def run_batch(ctx: typer.Context) -> int:
    """Run the instructions of ``--tasks-file``; the exit code (0: every episode ended with
    the model's done)."""
    from cradle.cli.env_options import parse_env_options
    from cradle.cli.eval_cmd import _check_model, _memory
    from cradle.eval.harness import EvalOptions, run_eval
    from cradle.tasks.batch import instruction_tasks

    p: dict[str, Any] = ctx.params
    refused = [flag for name, flag in _SINGLE_EPISODE.items() if _given(ctx, name)]
    if refused:
        raise UsageError(
            f"{', '.join(refused)}: not with --tasks-file (each instruction runs "
            "as an unattended episode in a worker)"
        )
    if p["env"] is None:
        raise UsageError("--tasks-file needs --env ENV, the environment of every instruction")
    out = _out(p["out"], p["resume"])
    shared = cl.check_cluster(p["ray"], p["workers"], p["shared_out"])
    _known_environment(p["env"])
    tasks = instruction_tasks(
        p["tasks_file"],
        environment=p["env"],
        env_options=parse_env_options(p["env_option"] or []),
        max_steps=p["max_steps"],
        timeout=p["max_time"],
    )
    model = opt.model_settings(
        provider=p["provider"],
        model=p["model"],
        base_url=p["base_url"],
        api_key_env=p["api_key_env"],
        azure_endpoint=p["azure_endpoint"],
        azure_api_version=p["azure_api_version"],
        timeout=p["timeout"],
        max_retries=p["max_retries"],
        price_in=p["price_in"],
        price_out=p["price_out"],
        prices=p["prices"],
        max_output_tokens=p["max_output_tokens"],
        response_mode=p["response_mode"],
    )
    _check_model(model)
    agent = opt.agent_settings(
        mode=p["mode"],
        max_image_side=p["max_image_side"],
        max_actions=p["max_actions"],
        settle=p["settle"],
        max_tokens=p["max_tokens"],
        max_cost=p["max_cost"],
        no_vision=p["no_vision"],
        planner=opt.planner_settings(
            planner=p["planner"],
            planner_model=p["planner_model"],
            planner_provider=p["planner_provider"],
            planner_base_url=p["planner_base_url"],
        ),
    )
    gui.set_action_format(
        agent,
        gui.action_format_settings(p["action_format"], p["coordinates"], p["coordinates_grid"]),
    )
    if p["grounding_base_url"] or p["grounding_model"]:
        raise UsageError(
            "--grounding-base-url: not with --tasks-file (its workers are given "
            "no grounding model); run the instructions one by one with --task"
        )
    skills_dir = p["generated_skills_dir"] if _given(ctx, "generated_skills_dir") else None
    outcome = run_eval(
        EvalOptions(
            tasks=tasks,
            out=out,
            workers=p["workers"],
            resume=p["resume"] is not None,
            mode="model",
            model=model.model_dump(mode="json"),
            agent=agent.model_dump(mode="json", exclude_unset=True),
            memory=_memory(p["memory_url"], p["memory_dir"], p["no_memory"]),
            generated_skills_dir=skills_dir.absolute() if skills_dir else None,
            ray=p["ray"],
            retries=p["retries"],
            shared_out=shared,
        )
    )
    from rich.console import Console

    s = outcome.summary
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"{s['passed']}/{s['tasks']} episodes ended with the model's done (a claim: these "
        f"tasks have no checks); {outcome.out / 'summary.json'}, "
        f"{outcome.out / 'report.html'}",
        markup=False,
    )
    return outcome.exit_code


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
