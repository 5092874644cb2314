"""Skill files read without running them, for ``cradle skills check``.

Check is what people run on code they downloaded, so by default nothing in the file runs: the
file is parsed and compiled (which runs nothing), its ``@skill`` functions are found in the
syntax tree, and their schema goes through the same checks as loading
(:func:`cradle.skills.decorator.describe_skill`): hints, docstring ``Args:``, first parameter,
names. Type hints are evaluated from the tree for builtins and ``typing`` names only; a hint
that needs the file to run (an alias defined in it, a class from another module) is reported
as such, and ``cradle skills check --import`` loads a trusted file the way a run does.

What cannot be seen without running the file is not reported: errors raised by its top-level
code, or decorators that replace the function.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import io
import tokenize
import typing
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cradle.errors import SkillDefinitionError, SkillExecutionError
from cradle.skills.decorator import Skill, describe_skill

if TYPE_CHECKING:
    from cradle.skills.checker import Problem

MAX_FILE_BYTES = 1_000_000
"""Largest file read; skill files are a few kilobytes."""
MAX_HINT_DEPTH = 20
"""Deepest type hint evaluated, e.g. ``list[list[...]]``."""
MAX_HINT_CHARS = 1_000
"""Longest type hint written as a string."""

_SKILL_DECORATORS = frozenset({"cradle.skills.skill", "cradle.skills.decorator.skill"})
_LOCAL = "<module>"
"""Dotted prefix of names the file binds itself (assignments, defs): known only by running it."""
_NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class NeedsImport(Exception):
    """A type hint names something only running the file would define."""

    @classmethod
    def of(cls, what: str) -> NeedsImport:
        return cls(f"{what}; check a trusted file with --import")

    @classmethod
    def expression(cls, node: ast.expr, kind: str = "") -> NeedsImport:
        return cls.of(f"{kind}`{ast.unparse(node)}` needs the file to run")


@dataclass
class FileReport:
    """The skills one file defines and the problems loading it would raise."""

    path: Path
    skills: list[Skill] = field(default_factory=list)
    problems: list[SkillDefinitionError | Problem] = field(default_factory=list)
    """Each prints as ``file:line: reason``; a :class:`Problem` of the untrusted-code policy
    also names the column."""


def check_files(
    files: Sequence[Path], *, shared: Sequence[Path], untrusted: bool = False
) -> list[FileReport]:
    """Read each of ``files`` as the agent would load it after the skill files of the
    ``shared`` folders, so that a file defining a skill they define gets the loader's
    duplicate problem. Only ``files`` are reported; a file of a shared folder is reported as
    read with the others."""
    shared_reports = {
        p.resolve(): read_skills(p)
        for folder in shared
        if folder.is_dir()
        for p in sorted(folder.glob("*.py"))
        if not p.name.startswith("_")
    }
    owners: dict[str, Skill] = {}
    for report in shared_reports.values():
        _register(report, owners)
    reports: list[FileReport] = []
    for file in files:
        report = None if untrusted else shared_reports.get(file.resolve())
        if report is None:
            report = read_skills(file, untrusted=untrusted, known=set(owners))
            _register(report, dict(owners))
        reports.append(report)
    return reports


def _register(report: FileReport, owners: dict[str, Skill]) -> None:
    """Add the report's skills to ``owners`` unless one is a duplicate (then the loader loads
    none of the file, and each duplicate is a problem of the file)."""
    if report.problems:
        return
    clashes = [
        (s, owners[s.name])
        for s in report.skills
        if s.name in owners and owners[s.name].source_file != s.source_file
    ]
    for found, other in clashes:
        report.problems.append(
            SkillDefinitionError(
                f"duplicate skill {found.name!r}: already defined at "
                f"{other.source_file}:{other.line}",
                path=found.source_file,
                line=found.line,
            )
        )
    if not clashes:
        owners.update((s.name, s) for s in report.skills)


def read_skills(path: Path, *, untrusted: bool = False, known: Collection[str] = ()) -> FileReport:
    """The ``@skill`` functions of ``path`` and the problems loading it would raise.

    ``untrusted`` applies the policy for model-written code first
    (:func:`cradle.skills.checker.check_untrusted`, with ``known`` as the callable skills).
    """
    key = str(path.resolve())
    report = FileReport(path)
    try:
        data = _read(path, key)
        if untrusted:
            problems = _untrusted_problems(data, key, known)
            if problems:
                report.problems += problems
                return report
        tree = _parse(_decode(data, key), key)
    except SkillDefinitionError as exc:
        report.problems.append(exc)
        return report
    scope = _Scope(tree)
    by_name: dict[str, Skill] = {}
    for node in scope.functions:
        try:
            risky = _skill_decorator(node, scope, key)
            if risky is not None:
                found = _describe(node, scope, key, risky=risky)
                by_name[found.name] = found  # a later definition replaces an earlier one
        except SkillDefinitionError as exc:
            report.problems.append(exc)
    report.skills = list(by_name.values())
    if untrusted and not report.skills and not report.problems:
        report.problems.append(
            SkillDefinitionError("the source defines no @skill function", path=key)
        )
    return report


def _read(path: Path, key: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SkillDefinitionError(f"cannot read file ({exc})", path=key) from None
    if len(data) > MAX_FILE_BYTES:
        raise SkillDefinitionError(
            f"the file is larger than {MAX_FILE_BYTES:,} bytes, the most a check reads", path=key
        )
    return data


def _untrusted_problems(data: bytes, key: str, known: Collection[str]) -> list[Problem]:
    from cradle.skills.checker import check_untrusted

    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SkillDefinitionError(f"not UTF-8 text ({exc.reason})", path=key) from None
    return list(check_untrusted(source, key, known_skills=set(known)))


def _decode(data: bytes, key: str) -> str:
    """The text, in the encoding Python reads the file in (UTF-8 unless a coding line says
    otherwise); undecodable bytes are a problem even in a comment, where Python skips them."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SkillDefinitionError(f"syntax error: {exc.msg}", path=key, line=exc.lineno) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        raise SkillDefinitionError(
            f"not {name} text ({exc.reason})", path=key, line=data[: exc.start].count(b"\n") + 1
        ) from None


def _parse(source: str, key: str) -> ast.Module:
    """The syntax tree, with the errors the loader's ``compile`` would give (compiling the
    tree also finds the compiler's own, such as ``return`` outside a function; nothing runs)."""
    try:
        tree = ast.parse(source, filename=key)
        compile(tree, key, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise SkillDefinitionError(f"syntax error: {exc.msg}", path=key, line=exc.lineno) from None
    except ValueError as exc:
        raise SkillDefinitionError(f"cannot compile: {exc}", path=key) from None
    except (RecursionError, MemoryError) as exc:
        raise SkillDefinitionError(
            f"too deeply nested to read ({type(exc).__name__})", path=key
        ) from None
    return tree


# --------------------------------------------------------------------------- names


def _module_level(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node that runs in the module's own scope (not inside functions, classes or
    lambdas, whose own nodes are skipped; the def nodes themselves are yielded)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if node is not tree and isinstance(node, _NEW_SCOPES):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


class _Scope:
    """What the module's names are bound to, as far as reading the tree tells."""

    def __init__(self, tree: ast.Module) -> None:
        self.imports: dict[str, str] = {}
        self.defined: set[str] = set()
        self.star = False
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        for node in _module_level(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.imports[top] = top
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "*":
                        self.star = True
                    elif node.level or not node.module:
                        self.defined.add(alias.asname or alias.name)
                    else:
                        self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.append(node)
                self.defined.add(node.name)
            elif isinstance(node, ast.ClassDef):
                self.defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                self.defined.add(node.id)

    def dotted(self, node: ast.expr) -> str | None:
        """``typing.Literal`` for ``Literal`` imported from typing, ``builtins.int`` for
        ``int``, ``<module>.X`` for a name the file binds; None for an unbound name, and ""
        for an expression that is not a dotted name."""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ""
        name = node.id
        if name in self.imports:
            base = self.imports[name]
        elif name in self.defined:
            base = f"{_LOCAL}.{name}"
        elif hasattr(builtins, name):
            base = f"builtins.{name}"
        elif self.star:  # `from m import *` may have bound it
            base = f"{_LOCAL}.{name}"
        else:
            return None
        return ".".join([base, *reversed(attrs)])


def _root_name(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ast.unparse(node)


def _skill_decorator(
    node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope, key: str
) -> bool | None:
    """``risky`` when ``node`` is decorated with cradle's ``@skill``, else None. Decorators
    that would fail when the file runs (an unbound name, ``@skill(True)``) are problems."""
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        dotted = scope.dotted(target)
        if dotted is None:
            name = _root_name(target)
            hint = "; add `from cradle.skills import skill`" if name == "skill" else ""
            raise SkillDefinitionError(
                f"name {name!r} is not defined{hint}", path=key, line=decorator.lineno
            )
        if dotted not in _SKILL_DECORATORS:
            continue
        if call is None:
            return False
        unknown = [k.arg for k in call.keywords if k.arg != "risky"]
        if call.args or unknown:
            raise SkillDefinitionError(
                "@skill takes no positional arguments; use @skill(risky=True)"
                if call.args
                else f"@skill got an unexpected keyword argument {unknown[0]!r}",
                path=key,
                line=decorator.lineno,
            )
        risky = next((k.value for k in call.keywords if k.arg == "risky"), None)
        # Only a literal false is known to be false; anything else counts as risky.
        return risky is not None and not (isinstance(risky, ast.Constant) and not risky.value)
    return None


# --------------------------------------------------------------------------- one function


def _not_loaded(*_args: Any, **_kwargs: Any) -> Any:
    raise SkillExecutionError("this skill was read without running its file; load it to call it")


class _Source(str):
    """A default value shown as written, where only running the file would compute it."""

    def __repr__(self) -> str:
        return str(self)


def _describe(
    node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope, key: str, *, risky: bool
) -> Skill:
    args = node.args

    def hints() -> dict[str, Any]:
        # The first parameter is the injected context: its hint is never shown to the model.
        every = [
            *[*args.posonlyargs, *args.args][1:],
            *args.kwonlyargs,
            *(a for a in (args.vararg, args.kwarg) if a is not None),
        ]
        found = {a.arg: _hint(a.annotation, scope) for a in every if a.annotation is not None}
        if node.returns is not None:
            found["return"] = _hint(node.returns, scope)
        return found

    return describe_skill(
        _not_loaded,
        name=node.name,
        path=key,
        line=min([node.lineno, *(d.lineno for d in node.decorator_list)]),
        params=_parameters(args),
        doc=ast.get_docstring(node, clean=True) or "",
        plain=isinstance(node, ast.FunctionDef) and not _yields(node),
        hints=hints,
        risky=risky,
    )


def _parameters(args: ast.arguments) -> list[inspect.Parameter]:
    P = inspect.Parameter
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    params = [
        P(
            a.arg,
            P.POSITIONAL_ONLY if i < len(args.posonlyargs) else P.POSITIONAL_OR_KEYWORD,
            default=_default(d),
        )
        for i, (a, d) in enumerate(zip(positional, defaults, strict=True))
    ]
    if args.vararg is not None:
        params.append(P(args.vararg.arg, P.VAR_POSITIONAL))
    params += [
        P(a.arg, P.KEYWORD_ONLY, default=_default(d))
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg is not None:
        params.append(P(args.kwarg.arg, P.VAR_KEYWORD))
    return params


def _default(node: ast.expr | None) -> Any:
    if node is None:
        return inspect.Parameter.empty
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        try:
            return _Source(ast.unparse(node))
        except RecursionError:
            return _Source("...")


def _yields(node: ast.FunctionDef) -> bool:
    """Whether ``node`` is a generator (a ``yield`` in its own body, not in nested scopes)."""
    stack: list[ast.AST] = list(node.body)
    while stack:
        child = stack.pop()
        if isinstance(child, ast.Yield | ast.YieldFrom):
            return True
        if not isinstance(child, _NEW_SCOPES):
            stack.extend(ast.iter_child_nodes(child))
    return False


def _hint(node: ast.expr, scope: _Scope, depth: int = 0) -> Any:
    """The value ``typing.get_type_hints`` would give for the hint ``node``, for builtins and
    ``typing`` names; raises as evaluation would (NameError, TypeError) or ``NeedsImport``."""
    if depth > MAX_HINT_DEPTH:
        raise NeedsImport(f"the type hint is nested more than {MAX_HINT_DEPTH} deep")
    if isinstance(node, ast.Constant):
        return _constant_hint(node.value, scope, depth)
    if isinstance(node, ast.Name | ast.Attribute):
        return _named(node, scope)
    if isinstance(node, ast.Subscript):
        base = _hint(node.value, scope, depth + 1)
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base is typing.Literal:
            args = tuple(_literal(item) for item in items)
        else:
            args = tuple(_hint(item, scope, depth + 1) for item in items)
        return base[args[0] if len(args) == 1 else args]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _hint(node.left, scope, depth + 1) | _hint(node.right, scope, depth + 1)
    if isinstance(node, ast.List):
        return [_hint(item, scope, depth + 1) for item in node.elts]
    raise NeedsImport.expression(node)


def _constant_hint(value: Any, scope: _Scope, depth: int) -> Any:
    if value is None:
        return type(None)
    if value is Ellipsis:
        return Ellipsis
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a type")
    if len(value) > MAX_HINT_CHARS:
        raise NeedsImport(f"a type hint string is longer than {MAX_HINT_CHARS} characters")
    try:
        inner = ast.parse(value.strip(), mode="eval").body
    except SyntaxError:
        raise SyntaxError(f"Forward reference must be an expression -- got {value!r}") from None
    return _hint(inner, scope, depth + 1)


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        raise NeedsImport.expression(node, "Literal value ") from None


def _named(node: ast.Name | ast.Attribute, scope: _Scope) -> Any:
    dotted = scope.dotted(node)
    if dotted is None:
        raise NameError(f"name {_root_name(node)!r} is not defined")
    module, _, attr = dotted.rpartition(".")
    if not module:
        raise NeedsImport.expression(node)
    if module == "builtins":
        return getattr(builtins, attr)
    if module in ("typing", "typing_extensions"):
        if not hasattr(typing, attr):
            raise AttributeError(f"module 'typing' has no attribute {attr!r}")
        return getattr(typing, attr)
    where = "is set when the file runs" if module == _LOCAL else f"comes from {module}"
    raise NeedsImport.of(f"{attr!r} {where}")
