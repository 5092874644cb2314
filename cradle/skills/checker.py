"""The policy for model-written (untrusted) skill sources: an allow-list checked on the AST.

A generated skill has the same form as a user skill file, with a much smaller language:

* the only import is ``from cradle.skills import skill``; the top level holds only that import,
  docstrings and ``@skill`` functions (``@skill`` or ``@skill(risky=True)``);
* the first parameter is the injected screen; it cannot be used in the body (call skills);
* other parameters and the return need plain annotations (str, int, float, bool, None,
  ``X | None``, ``list[X]``) and literal defaults;
* bodies hold assignments (also augmented, also tuple unpacking) to plain local names,
  ``if``/``elif``/``else``, ``for`` over ``range(...)``, list/tuple literals or local names,
  ``return``, ``pass``, ``break``, ``continue``, docstrings, and calls by plain name of other
  skills or of the pure builtins ``len range min max abs round str int float``;
* expressions are literals, local names, those calls, arithmetic/boolean/comparison operators
  and conditional expressions; list/tuple/dict literals may only hold literal values;
* no attribute access, subscripts, f-strings, lambdas, comprehensions, ``while``, ``try``,
  ``with``, ``raise``, ``global``, ``del``, classes, nested functions, ``*``/``**`` arguments,
  no name or string containing a double underscore, no other builtin, no self-call.

:func:`check_untrusted` lists every problem (line, column, reason); sources nested too deeply or
with too many parts are rejected before the walk. Passing the check does not make code safe to
run here: cradle's own process only runs the *declarations* (:func:`compile_declarations`), and
the bodies run in a separate, OS-limited process (:mod:`cradle.skills.isolation`) as
:func:`guarded_source`, with every arithmetic operator routed through a size guard and the
builtins capped (:mod:`cradle.skills.sandbox_child`).
"""

from __future__ import annotations

import ast
import builtins
import difflib
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cradle.skills.decorator import Skill
    from cradle.skills.registry import SkillRegistry

MAX_SOURCE_CHARS = 20_000
MAX_NESTING = 100
"""Deepest syntax tree accepted: a normal skill nests a few dozen levels; one long expression
such as a 2,000-term sum nests thousands deep and would exhaust recursion in the walk."""
MAX_NODES = 20_000
MAX_LINE_CHARS = 1_000
"""Longer lines serve no skill and make the docstring parser's regular expressions slow."""

OP_GUARD = "__cradle_op__"
"""Name of the guarded-operator helper in the sandbox; unreachable from checked code (dunder)."""

SAFE_CALLS = ("len", "range", "min", "max", "abs", "round", "str", "int", "float")
_ANNOTATION_NAMES = {"str", "int", "float", "bool"}
_PY_BUILTINS = frozenset(dir(builtins))
_EXTRA_FORBIDDEN = frozenset(
    {
        "os",
        "sys",
        "subprocess",
        "importlib",
        "builtins",
        "socket",
        "shutil",
        "pathlib",
        "ctypes",
        "pickle",
        "marshal",
        "threading",
        "signal",
        "skill",
    }
)


@dataclass(frozen=True)
class Problem:
    """One violation of the untrusted-code policy."""

    line: int
    col: int
    reason: str
    filename: str = "<generated>"

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}: {self.reason}"


# --------------------------------------------------------------------------- the check

_STMT_REASONS: dict[type[ast.AST], str] = {
    ast.While: "while loops are not allowed; use for i in range(n)",
    ast.Try: "try/except is not allowed",
    ast.With: "with blocks are not allowed",
    ast.AsyncWith: "async code is not allowed",
    ast.AsyncFor: "async code is not allowed",
    ast.AsyncFunctionDef: "async functions are not allowed",
    ast.FunctionDef: "nested function definitions are not allowed; write another @skill",
    ast.ClassDef: "classes are not allowed",
    ast.Import: "imports are not allowed",
    ast.ImportFrom: "imports are not allowed inside skills",
    ast.Global: "global is not allowed",
    ast.Nonlocal: "nonlocal is not allowed",
    ast.Delete: "del is not allowed",
    ast.Raise: "raise is not allowed; return a message instead",
    ast.Assert: "assert is not allowed",
    ast.AnnAssign: "annotated assignments are not allowed; write name = value",
}
if hasattr(ast, "TryStar"):
    _STMT_REASONS[ast.TryStar] = "try/except is not allowed"
if hasattr(ast, "Match"):
    _STMT_REASONS[ast.Match] = "match statements are not allowed; use if/elif"

_EXPR_REASONS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access (a.b) is not allowed; call skills by plain name",
    ast.Subscript: "subscripts (a[b]) are not allowed",
    ast.JoinedStr: "f-strings are not allowed; use str() and +",
    ast.FormattedValue: "f-strings are not allowed; use str() and +",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed; use a for loop",
    ast.SetComp: "comprehensions are not allowed; use a for loop",
    ast.DictComp: "comprehensions are not allowed; use a for loop",
    ast.GeneratorExp: "generator expressions are not allowed; use a for loop",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "starred expressions (*x) are not allowed",
    ast.Set: "set literals are not allowed; use a list",
    ast.Slice: "slices are not allowed",
}


def check_untrusted(
    source: str,
    filename: str = "<generated>",
    *,
    known_skills: Collection[str] | None = None,
) -> list[Problem]:
    """Every way ``source`` breaks the policy; an empty list means it may be loaded.

    With ``known_skills``, calls of names that are neither those skills, nor skills defined in
    ``source``, nor pure builtins are problems too (``load_untrusted`` passes the registry).
    """
    checker = _Checker(filename, known_skills)
    if not isinstance(source, str):
        return [Problem(1, 0, "the skill source must be a string", filename)]
    if len(source) > MAX_SOURCE_CHARS:
        return [Problem(1, 0, f"the source is longer than {MAX_SOURCE_CHARS} characters", filename)]
    long_line = next(
        (n for n, line in enumerate(source.splitlines(), 1) if len(line) > MAX_LINE_CHARS), None
    )
    if long_line is not None:
        return [
            Problem(
                long_line, 0, f"line longer than {MAX_LINE_CHARS} characters; split it", filename
            )
        ]
    try:
        tree = ast.parse(source, filename=filename, mode="exec")
    except SyntaxError as exc:
        return [
            Problem(exc.lineno or 1, (exc.offset or 1) - 1, f"syntax error: {exc.msg}", filename)
        ]
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return [Problem(1, 0, f"the source cannot be parsed ({type(exc).__name__})", filename)]
    too_big = _shape_problem(tree, filename)
    if too_big is not None:
        return [too_big]
    try:
        checker.check_module(tree)
    except RecursionError:
        return [Problem(1, 0, "the source is nested too deeply to check", filename)]
    return checker.sorted_problems()


def _shape_problem(tree: ast.AST, filename: str) -> Problem | None:
    """A rejection for trees too deep or too large to walk safely, found without recursion."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_NESTING:
            return Problem(
                getattr(node, "lineno", 1),
                getattr(node, "col_offset", 0),
                f"the code is nested more than {MAX_NESTING} levels deep; split long "
                "expressions into several assignments",
                filename,
            )
        if count > MAX_NODES:
            return Problem(1, 0, f"the source has more than {MAX_NODES} syntax nodes", filename)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return None


class _Checker:
    def __init__(self, filename: str, known_skills: Collection[str] | None):
        self.filename = filename
        self.known = None if known_skills is None else set(known_skills)
        self.problems: dict[tuple[int, int, str], Problem] = {}
        self.defined: set[str] = set()
        # per function
        self.func_name = ""
        self.screen_name = ""
        self.locals: set[str] = set()

    def add(self, node: ast.AST | None, reason: str) -> None:
        line = getattr(node, "lineno", 1) or 1
        col = getattr(node, "col_offset", 0) or 0
        self.problems.setdefault((line, col, reason), Problem(line, col, reason, self.filename))

    def sorted_problems(self) -> list[Problem]:
        return sorted(self.problems.values(), key=lambda p: (p.line, p.col, p.reason))

    # ---------------------------------------------------------------- whole-tree rules

    def check_dunders(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            idents: list[str] = []
            if isinstance(node, ast.Name):
                idents = [node.id]
            elif isinstance(node, ast.Attribute):
                idents = [node.attr]
            elif isinstance(node, ast.keyword) and node.arg:
                idents = [node.arg]
            elif isinstance(node, ast.arg):
                idents = [node.arg]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                idents = [node.name]
            elif isinstance(node, ast.alias):
                idents = [node.name, node.asname or ""]
            elif isinstance(node, ast.ImportFrom):
                idents = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
                text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
                if "__" in text:
                    self.add(node, "strings containing a double underscore are not allowed")
            for ident in idents:
                if "__" in ident:
                    self.add(node, f"names with a double underscore ({ident!r}) are not allowed")

    # ---------------------------------------------------------------- top level

    def check_module(self, tree: ast.Module) -> None:
        self.check_dunders(tree)
        funcs: list[ast.FunctionDef] = []
        for stmt in tree.body:
            if isinstance(stmt, ast.ImportFrom):
                names = [(a.name, a.asname) for a in stmt.names]
                if stmt.module != "cradle.skills" or stmt.level or names != [("skill", None)]:
                    self.add(stmt, "the only import allowed is `from cradle.skills import skill`")
            elif isinstance(stmt, ast.Import):
                self.add(stmt, "the only import allowed is `from cradle.skills import skill`")
            elif _is_docstring(stmt):
                continue
            elif isinstance(stmt, ast.FunctionDef):
                funcs.append(stmt)
            elif isinstance(stmt, ast.AsyncFunctionDef):
                self.add(stmt, "async functions are not allowed")
            else:
                self.add(
                    stmt,
                    "only the import, docstrings and @skill functions may appear at "
                    f"the top level, not {type(stmt).__name__}",
                )
        if not funcs:
            self.add(tree.body[0] if tree.body else None, "the source defines no @skill function")
        seen: set[str] = set()
        for func in funcs:
            if func.name in seen:
                self.add(func, f"skill {func.name!r} is defined twice")
            seen.add(func.name)
        self.defined = seen
        for func in funcs:
            self.check_function(func)

    def check_function(self, func: ast.FunctionDef) -> None:
        self.func_name = func.name
        if func.name in _PY_BUILTINS or func.name in _EXTRA_FORBIDDEN:
            self.add(func, f"a skill may not be named {func.name!r}")
        if func.name.startswith("_"):
            self.add(func, "skill names must not start with an underscore")
        self.check_decorators(func)
        args = func.args
        positional = [*args.posonlyargs, *args.args]
        if not positional:
            self.add(func, "the first parameter must be the injected screen, e.g. def f(screen)")
            self.screen_name = ""
        else:
            self.screen_name = positional[0].arg
            if positional[0].annotation is not None:
                # Annotations are evaluated when the skill is declared; this one has no use.
                self.add(
                    positional[0].annotation,
                    "the injected screen parameter takes no annotation; write def f(screen)",
                )
        if args.kwarg is not None:
            self.add(args.kwarg, "**kwargs parameters are not allowed")
        params = positional[1:] + args.kwonlyargs + ([args.vararg] if args.vararg else [])
        for param in params:
            if param.annotation is None:
                self.add(param, f"parameter {param.arg!r} needs a type hint")
            else:
                self.check_annotation(param.annotation)
            self.check_target_name(param, param.arg)
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None and not _is_literal_scalar(default):
                self.add(default, "parameter defaults must be literal values")
        if func.returns is not None:
            self.check_annotation(func.returns)

        self.locals = {p.arg for p in params}
        for node in ast.walk(func):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.locals.add(node.id)
        body = func.body[1:] if func.body and _is_docstring(func.body[0]) else func.body
        self.check_block(body)

    def check_decorators(self, func: ast.FunctionDef) -> None:
        decos = func.decorator_list
        ok = len(decos) == 1 and (
            (isinstance(decos[0], ast.Name) and decos[0].id == "skill")
            or (
                isinstance(decos[0], ast.Call)
                and isinstance(decos[0].func, ast.Name)
                and decos[0].func.id == "skill"
                and not decos[0].args
                and all(
                    kw.arg == "risky"
                    and isinstance(kw.value, ast.Constant)
                    and isinstance(kw.value.value, bool)
                    for kw in decos[0].keywords
                )
            )
        )
        if not ok:
            self.add(
                decos[0] if decos else func,
                "each function needs exactly one decorator: @skill or @skill(risky=True)",
            )

    def check_annotation(self, node: ast.expr) -> None:
        if isinstance(node, ast.Name) and node.id in _ANNOTATION_NAMES:
            return
        if isinstance(node, ast.Constant) and node.value is None:
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            self.check_annotation(node.left)
            self.check_annotation(node.right)
            return
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "list"
        ):
            self.check_annotation(node.slice)
            return
        self.add(node, "annotations may only be str, int, float, bool, None, X | None or list[X]")

    def check_target_name(self, node: ast.AST, name: str) -> None:
        if name in _PY_BUILTINS or name in _EXTRA_FORBIDDEN:
            self.add(node, f"{name!r} may not be used as a variable name")
        elif name in self.defined or (self.known is not None and name in self.known):
            self.add(node, f"{name!r} is a skill name; choose another variable name")

    # ---------------------------------------------------------------- statements

    def check_block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.check_stmt(stmt)

    def check_stmt(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Expr):
            if _is_docstring(stmt):
                return
            if isinstance(stmt.value, ast.Call):
                self.check_expr(stmt.value)
            else:
                self.add(stmt, "only calls can stand alone as statements")
                self.check_expr(stmt.value)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                self.check_target(target)
            self.check_expr(stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            self.check_target(stmt.target, allow_tuple=False)
            self.check_operator(stmt, stmt.op)
            self.check_expr(stmt.value)
        elif isinstance(stmt, ast.If):
            self.check_expr(stmt.test)
            self.check_block(stmt.body)
            self.check_block(stmt.orelse)
        elif isinstance(stmt, ast.For):
            self.check_target(stmt.target)
            it = stmt.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
                self.check_expr(it)
            elif isinstance(it, ast.List | ast.Tuple):
                self.check_expr(it)
            elif isinstance(it, ast.Name) and it.id in self.locals:
                self.check_expr(it)
            else:
                self.add(
                    it,
                    "for loops may only go over range(...), a list/tuple literal or a "
                    "local variable",
                )
            self.check_block(stmt.body)
            self.check_block(stmt.orelse)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.check_expr(stmt.value)
        elif isinstance(stmt, ast.Pass | ast.Break | ast.Continue):
            return
        else:
            reason = _STMT_REASONS.get(type(stmt), f"{type(stmt).__name__} is not allowed")
            self.add(stmt, reason)

    def check_target(self, target: ast.expr, *, allow_tuple: bool = True) -> None:
        if isinstance(target, ast.Name):
            if target.id == self.screen_name:
                self.add(target, "the injected screen parameter may not be reassigned")
            self.check_target_name(target, target.id)
        elif allow_tuple and isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                self.check_target(elt, allow_tuple=False)
        else:
            self.add(target, "assignments may only go to plain local names")

    # ---------------------------------------------------------------- expressions

    def check_operator(self, node: ast.AST, op: ast.operator) -> None:
        if isinstance(op, ast.MatMult):
            self.add(node, "the @ operator is not allowed")

    def check_expr(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant):
            value = node.value
            if not (value is None or isinstance(value, str | int | float | bool)):
                self.add(node, f"{type(value).__name__} literals are not allowed")
        elif isinstance(node, ast.Name):
            self.check_load_name(node)
        elif isinstance(node, ast.BinOp):
            self.check_operator(node, node.op)
            self.check_expr(node.left)
            self.check_expr(node.right)
        elif isinstance(node, ast.UnaryOp):
            self.check_expr(node.operand)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self.check_expr(value)
        elif isinstance(node, ast.Compare):
            self.check_expr(node.left)
            for comp in node.comparators:
                self.check_expr(comp)
        elif isinstance(node, ast.IfExp):
            self.check_expr(node.test)
            self.check_expr(node.body)
            self.check_expr(node.orelse)
        elif isinstance(node, ast.Call):
            self.check_call(node)
        elif isinstance(node, ast.List | ast.Tuple):
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    self.add(elt, _EXPR_REASONS[ast.Starred])
                elif not _is_literal(elt):
                    self.add(elt, "list and tuple literals may only hold literal values")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    self.add(value, "dict unpacking (**d) is not allowed")
                elif not (_is_literal(key) and _is_literal(value)):
                    self.add(key, "dict literals may only hold literal keys and values")
        else:
            self.add(node, _EXPR_REASONS.get(type(node), f"{type(node).__name__} is not allowed"))

    def check_load_name(self, node: ast.Name) -> None:
        name = node.id
        if name == self.screen_name:
            self.add(
                node,
                "the injected screen parameter cannot be used directly; call skills "
                "such as click(x, y) instead",
            )
        elif name in self.locals:
            return
        elif name in _PY_BUILTINS or name in _EXTRA_FORBIDDEN:
            self.add(node, f"{name!r} is not allowed here")
        else:
            self.add(
                node,
                f"{name!r} is not a local variable; only local names, literals and "
                "calls are allowed",
            )

    def check_call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, ast.Attribute):
                self.add(
                    func,
                    "method calls and attribute access are not allowed; call skills by plain name",
                )
            else:
                self.add(func, "only skills and pure builtins can be called, by plain name")
        else:
            self.check_callee(func)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.add(arg, "starred arguments (*args) are not allowed")
            else:
                self.check_expr(arg)
        for kw in node.keywords:
            if kw.arg is None:
                self.add(kw.value, "double-starred arguments (**kwargs) are not allowed")
            else:
                self.check_expr(kw.value)

    def check_callee(self, func: ast.Name) -> None:
        name = func.id
        if name in SAFE_CALLS:
            return
        if name == self.func_name:
            self.add(func, f"a skill may not call itself ({name!r})")
        elif name == self.screen_name or name in self.locals:
            self.add(func, f"{name!r} is a local variable, not a skill; it cannot be called")
        elif name in _PY_BUILTINS or name in _EXTRA_FORBIDDEN:
            self.add(
                func,
                f"calling {name!r} is not allowed; the builtins allowed are "
                f"{', '.join(SAFE_CALLS)}",
            )
        elif self.known is not None and name not in self.known and name not in self.defined:
            close = difflib.get_close_matches(name, sorted(self.known | self.defined), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            self.add(func, f"unknown skill {name!r}{hint}")


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_literal_scalar(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, str | int | float | bool)
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    )


def _is_literal(node: ast.expr, depth: int = 0) -> bool:
    if depth > 5:
        return False
    if _is_literal_scalar(node):
        return True
    if isinstance(node, ast.List | ast.Tuple):
        return all(_is_literal(e, depth + 1) for e in node.elts)
    return False


def load_untrusted(
    source: str,
    registry: SkillRegistry,
    *,
    origin: dict[str, Any],
    filename: str | None = None,
) -> list[Skill]:
    """Check ``source`` and register its skills as generated (run in a separate process).

    Raises ``GeneratedSkillRejected`` (an ``ActionRejected``) listing every problem when the
    source breaks the policy, defines a name that is already a skill, calls an unknown skill or
    lacks hints/docstring entries. Nothing is registered then.
    """
    return registry.add_untrusted(source, origin=origin, filename=filename)
