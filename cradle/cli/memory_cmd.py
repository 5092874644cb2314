"""``cradle memory``: look into, and prune, the long-term memory runs leave behind.

The same commands work on the embedded store (a folder) and on a shared ``chroma run``
server. Failures are framework errors, printed as one line by the main entry point.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cradle.errors import UsageError
from cradle.memory.kinds import EMBEDDER_KINDS

if TYPE_CHECKING:
    from cradle.memory.store import VectorMemory

__all__ = ["memory_app"]

memory_app = typer.Typer(
    name="memory",
    help="Search, count and forget what runs remembered (long-term vector memory).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

MemoryDir = Annotated[
    Path | None,
    typer.Option(
        "--memory-dir",
        help="Folder of the embedded store. Default: $CRADLE_MEMORY_DIR, else "
        "~/.local/share/cradle/memory.",
    ),
]
MemoryUrl = Annotated[
    str | None,
    typer.Option(
        "--memory-url", help="A chroma server instead of a folder, e.g. http://127.0.0.1:8000."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _where(memory_dir: Path | None, memory_url: str | None) -> tuple[Path | None, str | None]:
    if memory_dir is not None and memory_url is not None:
        raise UsageError("give --memory-dir or --memory-url, not both")
    if memory_url:
        return None, memory_url
    from cradle.memory.client import default_memory_dir

    return memory_dir or default_memory_dir(), None


def _open_for_bookkeeping(memory_dir: Path | None, memory_url: str | None) -> VectorMemory:
    """Stats and forget need no vectors, so any embedder's store can be opened for them."""
    from cradle.memory.store import VectorMemory

    folder, url = _where(memory_dir, memory_url)
    return VectorMemory.open(folder, url, embedder=None, create=False)


@memory_app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in words.")],
    memory_dir: MemoryDir = None,
    memory_url: MemoryUrl = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="How many memories.")] = 5,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="Only this kind (step, lesson, run); repeatable."),
    ] = None,
    env: Annotated[str | None, typer.Option("--env", help="Only this environment.")] = None,
    embedder: Annotated[
        str,
        typer.Option(
            "--embedder",
            help=f"One of {', '.join(EMBEDDER_KINDS)}; must match "
            "the embedder that built the store.",
        ),
    ] = "auto",
    as_json: AsJson = False,
) -> None:
    """Show the memories closest in meaning to QUERY, best first."""
    from cradle.memory.store import open_memory

    def note(text: str) -> None:
        typer.echo(f"warning: {text}", err=True)

    folder, url = _where(memory_dir, memory_url)
    with open_memory(folder, url, kind=embedder, on_note=note, create=False) as memory:
        items = memory.search(query, k, environment=env, kinds=kind or None)
    if as_json:
        typer.echo(json.dumps([item.model_dump(mode="json") for item in items], indent=2))
        return
    if not items:
        typer.echo("no memories found")
        return
    for item in items:
        meta = item.metadata
        where = f"run {meta.get('run_id', '?')}" + (
            f" step {meta['step']}"
            if isinstance(meta.get("step"), int) and meta["step"] >= 0
            else ""
        )
        typer.echo(f"{item.score:.3f}  {item.kind:<6}  {where}")
        for line in item.text.splitlines():
            typer.echo(f"        {line}")


@memory_app.command()
def stats(
    memory_dir: MemoryDir = None, memory_url: MemoryUrl = None, as_json: AsJson = False
) -> None:
    """Count memories by kind and run, and say which embedder built the store."""
    with _open_for_bookkeeping(memory_dir, memory_url) as memory:
        info = memory.stats()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(f"location:  {info['location']}")
    typer.echo(
        f"embedder:  {info['embedder'] or '(none yet)'}"
        + (f" ({info['dimension']}-d)" if info["dimension"] else "")
    )
    kinds = ", ".join(f"{name} {count}" for name, count in info["by_kind"].items())
    typer.echo(f"memories:  {info['memories']}" + (f" ({kinds})" if kinds else ""))
    typer.echo(f"runs:      {info['runs']}")
    typer.echo(f"skills:    {info['skills']}")


@memory_app.command()
def forget(
    run: Annotated[
        str | None, typer.Option("--run", help="Forget every memory of this run.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Forget everything (needs --yes).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm --all.")] = False,
    memory_dir: MemoryDir = None,
    memory_url: MemoryUrl = None,
) -> None:
    """Delete the memories of one run (--run ID), or all of them (--all --yes)."""
    if (run is None) == (not all_):
        raise UsageError("say what to forget: --run RUN_ID or --all --yes")
    if all_ and not yes:
        raise UsageError("refusing to forget all memories without --yes")
    with _open_for_bookkeeping(memory_dir, memory_url) as memory:
        if all_:
            removed = memory.wipe()
            typer.echo(f"forgot everything at {memory.location} ({removed} entries)")
            return
        assert run is not None
        removed = memory.forget_run(run)
    typer.echo(f"forgot {removed} memories of run {run}")
