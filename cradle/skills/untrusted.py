"""Turn a model-written source that passed the checker into what runs where.

cradle's own process runs only the declarations (:func:`compile_declarations`: signatures
and docstrings, every body reduced to ``pass``), for the prompt and for argument validation.
The sandbox process (:mod:`cradle.skills.sandbox_child`) runs :func:`guarded_source`: the
same code with every arithmetic operator turned into a call of its size guard.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

from cradle.skills.allow_list import is_docstring
from cradle.skills.checker import check_untrusted
from cradle.skills.sandbox_child import OP_GUARD


class _Guard(ast.NodeTransformer):
    """Route every arithmetic operator in function bodies through the child's size guard."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.body = [self.visit(stmt) for stmt in node.body]
        # Arguments arrive validated by cradle; the sandbox's ``str``/``int`` are size-capped
        # functions, not types, so annotations would not even evaluate there.
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                arg.annotation = None
        node.returns = None
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        call = ast.Call(
            func=ast.Name(id=OP_GUARD, ctx=ast.Load()),
            args=[ast.Constant(type(node.op).__name__), node.left, node.right],
            keywords=[],
        )
        return ast.copy_location(call, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        assert isinstance(node.target, ast.Name)
        name = node.target.id
        call = ast.Call(
            func=ast.Name(id=OP_GUARD, ctx=ast.Load()),
            args=[
                ast.Constant(type(node.op).__name__),
                ast.Name(id=name, ctx=ast.Load()),
                node.value,
            ],
            keywords=[],
        )
        assign = ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=call)
        return ast.copy_location(assign, node)


def _checked_tree(source: str, filename: str) -> ast.Module:
    if check_untrusted(source, filename):
        raise ValueError("the source did not pass check_untrusted")
    tree = ast.parse(source, filename=filename, mode="exec")
    tree.body = [stmt for stmt in tree.body if not isinstance(stmt, ast.ImportFrom)]
    return tree


def guarded_source(source: str, filename: str) -> str:
    """The source the sandbox process runs: import removed, every arithmetic operator a call
    of the size guard. Raises ``ValueError`` if ``source`` does not pass the check."""
    tree = _Guard().visit(_checked_tree(source, filename))
    return ast.unparse(ast.fix_missing_locations(tree))


def compile_declarations(source: str, filename: str) -> Any:
    """Code that only *declares* the skills of a checked source: each body is reduced to its
    docstring, so running it in cradle's own process defines signatures and nothing else.
    Raises ``ValueError`` if ``source`` does not pass the check."""
    tree = _checked_tree(source, filename)
    for func in tree.body:
        if isinstance(func, ast.FunctionDef):
            _require_plain_signature(func)
            keep = func.body[:1] if func.body and is_docstring(func.body[0]) else []
            func.body = [*keep, ast.copy_location(ast.Pass(), func)]
    return compile(ast.fix_missing_locations(tree), filename, "exec", dont_inherit=True)


DECLARATION_NAMES = ("str", "int", "float", "bool", "list")
DECLARATION_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in DECLARATION_NAMES}
"""What declarations may touch: the annotation types (defaults are literals)."""


_SIGNATURE_NODES = (
    ast.Name,
    ast.Constant,
    ast.BinOp,
    ast.BitOr,
    ast.Subscript,
    ast.Load,
    ast.UnaryOp,
    ast.USub,
    ast.Call,
    ast.keyword,
)
_SIGNATURE_NAMES = frozenset({*DECLARATION_NAMES, "skill"})


def _require_plain_signature(func: ast.FunctionDef) -> None:
    """A second, independent fence around what the declarations evaluate here (annotations,
    defaults, the decorator): only type names, literals and ``skill(risky=...)``. The checker
    already demands this; if it ever misses a case, nothing runs."""
    args = func.args
    parts = [*func.decorator_list, *args.defaults, *(d for d in args.kw_defaults if d)]
    parts += [
        a.annotation
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
        if a is not None and a.annotation
    ]
    parts += [func.returns] if func.returns is not None else []
    for part in parts:
        for node in ast.walk(part):
            if not isinstance(node, _SIGNATURE_NODES) or (
                isinstance(node, ast.Name) and node.id not in _SIGNATURE_NAMES
            ):
                raise ValueError(f"{func.name}: its signature holds {type(node).__name__}")


def called_names(source: str) -> frozenset[str]:
    """Names called by plain name in ``source`` (skills, and the few builtins allowed)."""
    return frozenset(
        node.func.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    )
