"""Where the episodes of ``cradle eval`` and ``cradle run --tasks-file`` run: flags shared by
both commands (one definition, the same help)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from cradle.cli.option_groups import SettingDefault
from cradle.errors import UsageError

Workers = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        max=32,
        help="Episodes at once on this machine, each in its own process, virtual "
        "display, home, temp folder and D-Bus session (not with --ray).",
    ),
]
Ray = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Run the episodes on a Ray cluster: HOST:PORT of its head "
        "node, or auto (Ray's own discovery). Needs pip install "
        "'cradle\\[ray]'; see docs/CLUSTER.md.",
        show_default=False,
    ),
]
Retries = Annotated[
    int,
    typer.Option(
        "--retries",
        min=0,
        max=10,
        help="Attempts more for a task whose episode crashed (its worker died "
        "without a result) or whose Ray node was lost; then it fails with the "
        "reason. A hung or failed task is not retried.",
    ),
]
SharedOut = Annotated[
    Path | None,
    typer.Option(
        "--shared-out",
        metavar="PATH",
        help="With --ray: a folder every node and this machine see at "
        "this path (NFS); nodes write run folders and logs there "
        "instead of sending them back to --out.",
        show_default=False,
    ),
]


def _eval_fields() -> type:
    from cradle.eval.options import EvalOptions

    return EvalOptions


@dataclass
class ClusterOptions:
    """Where the episodes run: worker processes here, or a Ray cluster."""

    workers: Workers = SettingDefault(_eval_fields, "workers")
    ray: Ray = None
    retries: Retries = SettingDefault(_eval_fields, "retries")
    shared_out: SharedOut = None

    def shared_folder(self) -> Path | None:
        """:func:`check_cluster` of these options."""
        return check_cluster(self.ray, self.workers, self.shared_out)


def check_cluster(ray: str | None, workers: int, shared_out: Path | None) -> Path | None:
    """The flags' combination is usable; ``shared_out`` made absolute (nodes start
    elsewhere)."""
    if ray is None:
        if shared_out is not None:
            raise UsageError("--shared-out needs --ray (locally, run folders go to --out)")
        return None
    if workers != 1:
        raise UsageError(
            "--workers is for this machine; with --ray the cluster's CPUs (and "
            "each task's needs) decide how many episodes run at once"
        )
    if shared_out is None:
        return None
    if not shared_out.is_dir():
        raise UsageError(
            f"--shared-out {shared_out}: no such folder here; mount the shared "
            "folder at the same path on this machine and every node"
        )
    return shared_out.absolute()
