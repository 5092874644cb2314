"""``cradle skills``: list, show and check skill files."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cradle.errors import CradleError, UsageError

if TYPE_CHECKING:
    from cradle.skills import Skill

skills_app = typer.Typer(
    help="List, show and check skills (plain Python files with @skill functions).",
    no_args_is_help=True,
)

EnvOption = Annotated[
    str | None, typer.Option("--env", help="Also load this environment's own skills.")
]
GeneratedOption = Annotated[
    Path,
    typer.Option("--generated-skills-dir", help="Folder of skills the model wrote (untrusted)."),
]


def _registry(env: str | None, generated: Path):
    from cradle.environment import load_environment
    from cradle.paths import shared_skills_dir
    from cradle.skills import SkillRegistry

    folders = [shared_skills_dir()]
    if env:
        folders += load_environment(env).skill_folders()
    untrusted = [generated] if generated.is_dir() else []
    return SkillRegistry.load(trusted=folders, untrusted=untrusted)


def _where(path: str, line: int) -> str:
    try:
        shown = Path(path).resolve().relative_to(Path.cwd())
    except ValueError:
        shown = Path(path)
    return f"{shown}:{line}"


@skills_app.command("list")
def list_skills(
    env: EnvOption = None,
    generated_skills_dir: GeneratedOption = Path("generated_skills"),
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per skill.")] = False,
) -> None:
    """Every skill the agent can call: signature, summary, source file, statistics."""
    import json

    from cradle.skills.stats import SkillStats

    registry = _registry(env, generated_skills_dir)
    stats = SkillStats()
    console = Console(highlight=False, soft_wrap=True)
    for item in sorted(registry, key=lambda s: s.name):
        stat = stats.get(item.name)
        rate = stat.success_rate
        where = _where(item.source_file, item.line)
        if json_out:
            print(
                json.dumps(
                    {
                        "name": item.name,
                        "signature": item.signature().split("  # ", 1)[0],
                        "summary": item.summary,
                        "source": where,
                        "generated": item.generated,
                        "calls": stat.calls,
                        "successes": stat.successes,
                        "failures": stat.failures,
                    }
                )
            )
            continue
        tag = "  [generated]" if item.generated else ""
        console.print(f"{item.signature().split('  # ', 1)[0]}{tag}", markup=False)
        console.print(f"    {item.summary}", markup=False)
        rate_text = "-" if rate is None else f"{rate:.0%}"
        console.print(
            f"    {where}  calls {stat.calls}, success {rate_text}", markup=False, style="dim"
        )
    for problem in registry.problems:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"problem: {problem}", markup=False
        )


@skills_app.command("show")
def show_skill(
    name: Annotated[str, typer.Argument(help="Skill name.")],
    env: EnvOption = None,
    generated_skills_dir: GeneratedOption = Path("generated_skills"),
) -> None:
    """A skill's source and statistics."""
    from cradle.skills.stats import SkillStats

    registry = _registry(env, generated_skills_dir)
    found = registry.get(name)
    if found is None:
        try:
            registry.require(name)
        except CradleError as exc:  # unknown skill: a usage error, with close matches
            raise UsageError(str(exc)) from None
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"{found.signature()}", markup=False)
    console.print(f"source: {_where(found.source_file, found.line)}", markup=False)
    if found.origin:
        console.print(f"origin: {found.origin}", markup=False)
    stat = SkillStats().get(name)
    rate = "-" if stat.success_rate is None else f"{stat.success_rate:.0%}"
    console.print(
        f"calls: {stat.calls}  successes: {stat.successes}  failures: {stat.failures}  "
        f"success rate: {rate}"
    )
    console.print()
    try:
        source = inspect.getsource(found.func)
    except (OSError, TypeError):
        lines = Path(found.source_file).read_text(encoding="utf-8").splitlines()
        source = "\n".join(lines[max(found.line - 1, 0) :])
    console.print(source, markup=False)


def _python_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return files


@skills_app.command("check")
def check_skills(
    paths: Annotated[list[Path], typer.Argument(help="Skill files or folders.")],
    untrusted: Annotated[
        bool,
        typer.Option("--untrusted", help="Apply the policy for model-written code (allow-list)."),
    ] = False,
    run_import: Annotated[
        bool,
        typer.Option(
            "--import",
            help="Load (run) each file as a run would, instead of reading it without running "
            "it. Only for files you trust; with --untrusted, the sandboxed load of "
            "model-written code.",
        ),
    ] = False,
) -> None:
    """Check skill files without running them; exits 1 naming file and line of every problem.

    Prints the signature the model would see of every skill found.
    """
    from cradle.paths import shared_skills_dir

    files = _python_files(paths)
    if run_import:
        found, problems = _check_by_loading(files, shared_skills_dir(), untrusted=untrusted)
    else:
        from cradle.skills.static_check import check_files

        reports = check_files(files, shared=[shared_skills_dir()], untrusted=untrusted)
        found = [s for r in reports for s in r.skills]
        problems = [str(p) for r in reports for p in r.problems]
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for problem in problems:
        err.print(problem, markup=False)
    if problems:
        err.print(f"{len(problems)} problem(s) in {len(files)} file(s)")
        raise typer.Exit(1)
    console = Console(highlight=False, soft_wrap=True)
    for item in found:
        console.print(f"{_where(item.source_file, item.line)}  {item.signature()}", markup=False)
    console.print(f"ok: {len(found)} skill(s) in {len(files)} file(s)")


def _check_by_loading(
    files: list[Path], shared_dir: Path, *, untrusted: bool
) -> tuple[list[Skill], list[str]]:
    """``--import``: load each file next to the shared skills, as a run does (this runs it)."""
    from cradle.skills import SkillRegistry, check_untrusted

    shared_files = {p.resolve() for p in shared_dir.glob("*.py")}
    problems: list[str] = []
    found: list[Skill] = []
    for file in files:
        if untrusted:
            source = file.read_text(encoding="utf-8", errors="replace")
            rejected = check_untrusted(source, filename=str(file))
            problems += [str(p) for p in rejected]
            if rejected:
                continue
        # The common skills are loaded too, so a file that calls them (or clashes with them)
        # is judged as the agent would load it; only this file's problems are reported.
        registry = SkillRegistry.load(
            trusted=[shared_dir, *([] if untrusted or file.resolve() in shared_files else [file])],
            untrusted=[file] if untrusted else [],
        )
        target = file.resolve()
        problems += [
            str(p) for p in registry.problems if p.path and Path(p.path).resolve() == target
        ]
        found += [s for s in registry if Path(s.source_file).resolve() == target]
    return found, problems
