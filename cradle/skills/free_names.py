"""Names a trusted skill file uses but never defines or imports.

Skill files import the skills they use; a file written for older releases, which put every
skill's name into each skill module, calls ``click(...)`` with no import and would only fail
with a ``NameError`` when that line runs, in the middle of a task. The loader asks this module
once the file has run, so such a file is refused at load time with the line to fix.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator, Mapping
from typing import Any


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the file binds anywhere (assignment, parameter, import, def, class, ...):
    generous on purpose, so only names bound nowhere at all are reported."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return bound


def free_names(tree: ast.AST, namespace: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
    """``(name, line)`` of the first use of each name that nothing defines: not bound in the
    file, not in the module's namespace after it ran, not a builtin."""
    known = _bound_names(tree) | set(namespace) | set(dir(builtins))
    seen: set[str] = set()
    uses = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    ]
    for node in sorted(uses, key=lambda n: (n.lineno, n.col_offset)):
        if node.id not in known and node.id not in seen:
            seen.add(node.id)
            yield node.id, node.lineno
