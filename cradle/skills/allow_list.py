"""The vocabulary of the untrusted-skill policy: what a problem is, which names and calls
are allowed, and the reason given for each construct that is not.

:mod:`cradle.skills.policy_walk` applies it to a syntax tree; :mod:`cradle.skills.checker`
describes the whole policy and is where a source is checked.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

SAFE_CALLS = ("len", "range", "min", "max", "abs", "round", "str", "int", "float")
"""The pure builtins a skill may call (the sandbox caps their sizes)."""
ANNOTATION_NAMES = {"str", "int", "float", "bool"}
PY_BUILTINS = frozenset(dir(builtins))
"""Names a skill may neither call (but ``SAFE_CALLS``), nor use, nor bind."""
EXTRA_FORBIDDEN = frozenset(
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
"""Other names with the same treatment: modules an escape would reach for, and ``skill``."""


@dataclass(frozen=True)
class Problem:
    """One violation of the untrusted-code policy."""

    line: int
    col: int
    reason: str
    filename: str = "<generated>"

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}: {self.reason}"


STMT_REASONS: dict[type[ast.AST], str] = {
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
    STMT_REASONS[ast.TryStar] = "try/except is not allowed"
if hasattr(ast, "Match"):
    STMT_REASONS[ast.Match] = "match statements are not allowed; use if/elif"

EXPR_REASONS: dict[type[ast.AST], str] = {
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


def is_docstring(stmt: ast.stmt) -> bool:
    """A bare string statement (a docstring), which the walk skips."""
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def is_literal_scalar(node: ast.expr) -> bool:
    """None, a str/int/float/bool constant, or a negative number."""
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, str | int | float | bool)
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    )


def is_literal(node: ast.expr, depth: int = 0) -> bool:
    """A scalar literal or a list/tuple of them, nested at most five deep."""
    if depth > 5:
        return False
    if is_literal_scalar(node):
        return True
    if isinstance(node, ast.List | ast.Tuple):
        return all(is_literal(e, depth + 1) for e in node.elts)
    return False
