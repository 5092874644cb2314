"""The walk over a parsed model-written source that records every break of the policy.

One pass over the tree: the top level (imports, docstrings, ``@skill`` functions), each
function's signature, then its body statement by statement. Every problem is kept (line,
column, reason), so the model sees all of them at once; the policy itself is described in
:mod:`cradle.skills.checker`, its vocabulary in :mod:`cradle.skills.allow_list`.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Collection

from cradle.skills.allow_list import (
    ANNOTATION_NAMES,
    EXPR_REASONS,
    EXTRA_FORBIDDEN,
    PY_BUILTINS,
    SAFE_CALLS,
    STMT_REASONS,
    Problem,
    is_docstring,
    is_literal,
    is_literal_scalar,
)


class PolicyWalk:
    """Collects the problems of one source; ``check_module`` walks it once."""

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
        """Record a problem at ``node`` (the same one twice at one place counts once)."""
        line = getattr(node, "lineno", 1) or 1
        col = getattr(node, "col_offset", 0) or 0
        self.problems.setdefault((line, col, reason), Problem(line, col, reason, self.filename))

    def sorted_problems(self) -> list[Problem]:
        """The problems in source order."""
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
            elif is_docstring(stmt):
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
        if func.name in PY_BUILTINS or func.name in EXTRA_FORBIDDEN:
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
            if default is not None and not is_literal_scalar(default):
                self.add(default, "parameter defaults must be literal values")
        if func.returns is not None:
            self.check_annotation(func.returns)

        self.locals = {p.arg for p in params}
        for node in ast.walk(func):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.locals.add(node.id)
        body = func.body[1:] if func.body and is_docstring(func.body[0]) else func.body
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
        if isinstance(node, ast.Name) and node.id in ANNOTATION_NAMES:
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
        if name in PY_BUILTINS or name in EXTRA_FORBIDDEN:
            self.add(node, f"{name!r} may not be used as a variable name")
        elif name in self.defined or (self.known is not None and name in self.known):
            self.add(node, f"{name!r} is a skill name; choose another variable name")

    # ---------------------------------------------------------------- statements

    def check_block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.check_stmt(stmt)

    def check_stmt(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Expr):
            if is_docstring(stmt):
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
            reason = STMT_REASONS.get(type(stmt), f"{type(stmt).__name__} is not allowed")
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
                    self.add(elt, EXPR_REASONS[ast.Starred])
                elif not is_literal(elt):
                    self.add(elt, "list and tuple literals may only hold literal values")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    self.add(value, "dict unpacking (**d) is not allowed")
                elif not (is_literal(key) and is_literal(value)):
                    self.add(key, "dict literals may only hold literal keys and values")
        else:
            self.add(node, EXPR_REASONS.get(type(node), f"{type(node).__name__} is not allowed"))

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
        elif name in PY_BUILTINS or name in EXTRA_FORBIDDEN:
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
        elif name in PY_BUILTINS or name in EXTRA_FORBIDDEN:
            self.add(
                func,
                f"calling {name!r} is not allowed; the builtins allowed are "
                f"{', '.join(SAFE_CALLS)}",
            )
        elif self.known is not None and name not in self.known and name not in self.defined:
            close = difflib.get_close_matches(name, sorted(self.known | self.defined), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            self.add(func, f"unknown skill {name!r}{hint}")
