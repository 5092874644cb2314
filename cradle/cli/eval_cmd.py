"""``cradle eval``: run task files as isolated episodes and report which tasks got done.

Registered on the main app in ``cradle/cli/app.py``; the work happens in
:mod:`cradle.eval.harness`, imported when the command runs so ``cradle --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cradle.cli import cluster_options as cl
from cradle.cli import model_options as opt
from cradle.cli.option_groups import SettingDefault, option_groups
from cradle.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from cradle.runtime import ModelSettings

EXIT_HELP = (
    "Exit codes: 0 every task ran and passed (with --noop: every task ran and its checker "
    "failed, as it must on the untouched start); 1 some task failed or did not run; 2 bad "
    "usage or task files; 130, 143, 129 stopped by Ctrl+C, SIGTERM, SIGHUP (what finished is "
    "kept: add --resume to run the rest)."
)

HELP = (
    "Run every task in PATHS as its own episode; the task's checker decides, not the model.\n\n"
    "Each task gets a run folder under OUT/runs/; OUT/results.jsonl gets a line per task as "
    "it finishes, OUT/summary.json the success rate (overall and per environment) and totals, "
    "OUT/report.html a table linking each run's report. A crashed or hung episode (killed at "
    "its timeout plus a margin) is a failed task with the reason; a crashed one is attempted "
    "again first (--retries).\n\n"
    "With --ray ADDRESS each task is a Ray task on a node of that cluster (the same worker, "
    "display and home isolation); results stream back as tasks finish, each line naming its "
    "node, and run folders come back into OUT/runs/ (or are written to --shared-out). A task "
    "asks for its needs (CPUs, a display: nodes with Xvfb and the apps declare the Ray "
    "resource display).\n\n"
    "The task sets max_steps and the wall-time budget; --max-tokens and --max-cost apply to "
    "each episode.\n\n"
    "Long-term memory is off unless --memory-url (a `chroma run` server every worker shares) "
    "or --memory-dir (one worker) is given. Skills an episode writes come back to this "
    "process, which promotes them into --generated-skills-dir only if the task passed; "
    "without it they are collected in OUT/generated_skills and episodes do not load them."
)


def _eval_fields() -> type:
    from cradle.eval.options import EvalOptions

    return EvalOptions


Paths = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Task files (YAML or JSON) or folders of them; default: the "
        "shipped suite (environments/*/tasks/).",
        show_default=False,
    ),
]


@dataclass
class SuiteOptions:
    """Which tasks, where the results go, and whether a model answers."""

    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for results.jsonl, summary.json, report.html, runs/ and logs/."
        ),
    ] = SettingDefault(_eval_fields, "out")
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip the tasks already in OUT/results.jsonl.")
    ] = False
    reference: Annotated[
        bool,
        typer.Option(
            "--reference",
            help="No model: replay each task's reference steps, "
            "then declare done (proves the task solvable and its checker).",
        ),
    ] = False
    noop: Annotated[
        bool,
        typer.Option(
            "--noop",
            help="No model: declare done at once (proves each checker "
            "fails on the untouched start).",
        ),
    ] = False

    def mode(self) -> str:
        if self.reference and self.noop:
            raise typer.BadParameter("give --reference or --noop, not both")
        return "reference" if self.reference else "noop" if self.noop else "model"


@dataclass
class EvalMemoryOptions:
    """The episodes' long-term memory (off by default) and where passing skills go."""

    memory_url: Annotated[
        str | None,
        typer.Option(
            "--memory-url",
            help="A Chroma server (`chroma run`) every "
            "worker shares for long-term memory and the skill index, "
            "e.g. http://127.0.0.1:8000.",
        ),
    ] = None
    memory_dir: Annotated[
        Path | None,
        typer.Option(
            "--memory-dir",
            help="Long-term memory in a folder (embedded chromadb): with --workers 1 only.",
        ),
    ] = None
    no_memory: Annotated[
        bool,
        typer.Option(
            "--no-memory",
            help="No long-term memory (the default): each "
            "task's result depends on that task alone.",
        ),
    ] = False
    generated_skills_dir: Annotated[
        Path | None,
        typer.Option(
            "--generated-skills-dir",
            help="Folder the skills of passing "
            "tasks are promoted into, and every episode loads; default: "
            "OUT/generated_skills, which episodes do not load.",
        ),
    ] = None


@option_groups
def eval_(
    paths: Paths = None,
    *,
    cluster: cl.ClusterOptions,
    suite: SuiteOptions,
    service: opt.ServiceOptions,
    loop: opt.LoopOptions,
    budget: opt.BudgetOptions,
    request: opt.RequestOptions,
    planning: opt.PlannerOptions,
    memory: EvalMemoryOptions,
) -> None:
    """Run every task in PATHS as its own episode; see HELP."""
    from cradle.eval.harness import EvalOptions, run_eval

    mode = suite.mode()
    agent = opt.agent_from(loop, budget, planning)
    shared = cluster.shared_folder()
    model_json: dict[str, object] = {}
    if mode == "model":
        settings = opt.model_from(service, request, budget)
        check_model(settings)
        model_json = settings.model_dump(mode="json")
    skills_dir = memory.generated_skills_dir
    outcome = run_eval(
        EvalOptions(
            paths=list(paths or []),
            out=suite.out,
            workers=cluster.workers,
            resume=suite.resume,
            mode=mode,  # type: ignore[arg-type]
            model=model_json,
            agent=agent.model_dump(mode="json", exclude_unset=True),
            memory=memory_json(memory.memory_url, memory.memory_dir, memory.no_memory),
            generated_skills_dir=skills_dir.absolute() if skills_dir else None,
            ray=cluster.ray,
            retries=cluster.retries,
            shared_out=shared,
        )
    )
    summary = outcome.summary
    _console().print(
        f"{summary['passed']}/{summary['tasks']} passed ({summary['success_rate']:.1%}), "
        f"{len(summary['skipped'])} skipped; {outcome.out / 'summary.json'}, "
        f"{outcome.out / 'report.html'}",
        markup=False,
    )
    raise typer.Exit(outcome.exit_code)


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def memory_json(url: str | None, folder: Path | None, off: bool) -> dict[str, object] | None:
    """The episodes' ``MemorySettings`` as JSON (a folder made absolute: workers may start
    elsewhere), or None for no memory."""
    if off and (url or folder):
        raise UsageError("give --no-memory or --memory-url/--memory-dir, not both")
    if url and folder:
        raise UsageError("give --memory-url or --memory-dir, not both")
    if not (url or folder):
        return None
    from cradle.runtime import MemorySettings

    settings = MemorySettings(memory_url=url, memory_dir=folder.absolute() if folder else None)
    return settings.model_dump(mode="json")


def check_model(settings: ModelSettings) -> None:
    """A missing key or unreadable price table is one usage error before any task runs."""
    from cradle.budget import load_prices

    settings.build_provider().close()
    if settings.prices_file is not None:
        load_prices(settings.prices_file)
