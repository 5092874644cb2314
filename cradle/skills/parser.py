"""Turn one action string from the model into a validated :class:`~cradle.types.SkillCall`.

The string is parsed with ``ast.parse(mode="eval")`` and never evaluated: values are built from
the validated nodes by hand. Exactly one call of a registered skill by plain name is accepted;
its arguments may only be literals (str, int, float, bool, None, negative numbers, and lists,
tuples and dicts of those). Every rejection says what to write instead, because the reason goes
back to the model.
"""

from __future__ import annotations

import ast
import difflib
from typing import TYPE_CHECKING, Any

from cradle.errors import ActionRejected
from cradle.types import SkillCall

if TYPE_CHECKING:
    from cradle.skills.registry import SkillRegistry

MAX_ACTION_CHARS = 2000
MAX_NESTING = 10
DEFAULT_MAX_ACTIONS = 20
"""Actions run from one plan (``cradle run --max-actions``): the screen changes as they run,
so a longer plan is mostly guessing; the rest are refused and the model plans again."""
MAX_PLAN_ACTIONS = 50
"""The highest ``--max-actions`` accepted."""

_EXAMPLE = "write one skill call such as click(x=120, y=40)"

_NODE_REASONS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "subscripts (a[b]) are not allowed",
    ast.Call: "nested calls are not allowed; arguments must be literal values",
    ast.JoinedStr: "f-strings are not allowed; write the final text as a plain string",
    ast.Lambda: "lambdas are not allowed",
    ast.ListComp: "comprehensions are not allowed; write the values out",
    ast.SetComp: "comprehensions are not allowed; write the values out",
    ast.DictComp: "comprehensions are not allowed; write the values out",
    ast.GeneratorExp: "generator expressions are not allowed; write the values out",
    ast.BinOp: "operators are not allowed in arguments; compute the value yourself",
    ast.BoolOp: "boolean operators are not allowed in arguments; write the value",
    ast.Compare: "comparisons are not allowed in arguments; write the value",
    ast.IfExp: "conditional expressions are not allowed in arguments; write the value",
    ast.NamedExpr: "assignment expressions are not allowed",
    ast.Starred: "starred arguments (*args) are not allowed; write each argument",
    ast.Set: "set literals are not allowed; use a list",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are not allowed",
}


def parse_action(source: str, registry: SkillRegistry) -> SkillCall:
    """Parse and validate one action; ``ActionRejected`` with a reason on anything else."""
    if not isinstance(source, str):
        raise ActionRejected(f"an action must be a string; {_EXAMPLE}")
    text = source.strip()
    if not text:
        raise ActionRejected(f"the action is empty; {_EXAMPLE}")
    if len(text) > MAX_ACTION_CHARS:
        raise ActionRejected(
            f"the action is {len(text)} characters long (at most {MAX_ACTION_CHARS}); "
            "split long text into several type_text calls"
        )
    tree = _parse(text)
    _reject_dunders(tree)
    node = tree.body
    if not isinstance(node, ast.Call):
        raise ActionRejected(f"the action is not a call ({_describe(node)}); {_EXAMPLE}")
    if not isinstance(node.func, ast.Name):
        if isinstance(node.func, ast.Attribute):
            raise ActionRejected(
                "attribute access (a.b) is not allowed; call skills by plain name, "
                "e.g. click(x=120, y=40)"
            )
        raise ActionRejected(f"call a skill by plain name; {_EXAMPLE}")
    name = node.func.id
    skill = registry.get(name)
    if skill is None:
        raise ActionRejected(_unknown_skill(name, registry))

    args: list[Any] = []
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise ActionRejected(_NODE_REASONS[ast.Starred])
        args.append(_value(arg, 0))
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise ActionRejected(
                "double-starred arguments (**kwargs) are not allowed; write each keyword argument"
            )
        if kw.arg in kwargs:
            raise ActionRejected(f"argument {kw.arg!r} is given twice")
        kwargs[kw.arg] = _value(kw.value, 0)

    args, kwargs = skill.validate(args, kwargs)
    return SkillCall(skill=name, args=args, kwargs=kwargs)


def plan_cap_reason(planned: int, cap: int) -> str:
    """Why the actions of a plan after the first ``cap`` were not run (the model reads it)."""
    more = planned - cap - 1
    which = f"this action and the {more} after it were" if more else "this action was"
    return (
        f"not run: the plan has {planned} actions and at most {cap} run in one step "
        f"(--max-actions); {which} refused; plan what is still needed in the next step"
    )


def _parse(text: str) -> ast.Expression:
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        error = exc
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise ActionRejected(
            f"the action cannot be parsed ({type(exc).__name__}); {_EXAMPLE}"
        ) from None
    # Give a better reason for the common "several statements" mistake.
    try:
        module = ast.parse(text, mode="exec")
    except Exception:  # noqa: BLE001 - fall through to the original syntax error
        module = None
    if module is not None and len(module.body) > 1:
        raise ActionRejected(
            "the action holds more than one statement; write exactly one skill call per action"
        )
    if module is not None and module.body and not isinstance(module.body[0], ast.Expr):
        raise ActionRejected(
            f"the action is a statement ({type(module.body[0]).__name__.lower()}), not a call; "
            f"{_EXAMPLE}"
        )
    where = f" at column {error.offset}" if error.offset else ""
    raise ActionRejected(f"the action is not valid Python ({error.msg}{where}); {_EXAMPLE}")


def _reject_dunders(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        ident = None
        if isinstance(node, ast.Name):
            ident = node.id
        elif isinstance(node, ast.Attribute):
            ident = node.attr
        elif isinstance(node, ast.keyword):
            ident = node.arg
        if ident and "__" in ident:
            raise ActionRejected(f"names with double underscores ({ident!r}) are not allowed")


def _value(node: ast.expr, depth: int) -> Any:
    """The Python value of a literal node; ``ActionRejected`` for anything else."""
    if depth > MAX_NESTING:
        raise ActionRejected(f"arguments are nested more than {MAX_NESTING} levels deep")
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, str | int | float | bool):
            return value
        raise ActionRejected(
            f"{type(value).__name__} literals are not allowed; use str, int, float, bool or None"
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = node.operand
        if (
            isinstance(operand, ast.Constant)
            and isinstance(operand.value, int | float)
            and not isinstance(operand.value, bool)
        ):
            return -operand.value if isinstance(node.op, ast.USub) else operand.value
        raise ActionRejected("a minus sign is only allowed directly before a number, e.g. -5")
    if isinstance(node, ast.List):
        return [_value(e, depth + 1) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(e, depth + 1) for e in node.elts)
    if isinstance(node, ast.Dict):
        result: dict[Any, Any] = {}
        for key, val in zip(node.keys, node.values, strict=True):
            if key is None:
                raise ActionRejected("dict unpacking (**d) is not allowed")
            k = _value(key, depth + 1)
            if not isinstance(k, str | int | float | bool) and k is not None:
                raise ActionRejected("dict keys must be strings or numbers")
            result[k] = _value(val, depth + 1)
        return result
    if isinstance(node, ast.Name):
        raise ActionRejected(
            f"names are not allowed as argument values ({node.id!r}); write the value itself, "
            "e.g. x=120 or text='hello' (quote text)"
        )
    if isinstance(node, ast.UnaryOp):
        raise ActionRejected("operators are not allowed in arguments; compute the value yourself")
    reason = _NODE_REASONS.get(type(node))
    if reason is None:
        reason = f"{type(node).__name__} is not allowed as an argument; use literal values"
    raise ActionRejected(reason)


def _describe(node: ast.expr) -> str:
    reason = _NODE_REASONS.get(type(node))
    if reason:
        return reason
    if isinstance(node, ast.Name):
        return f"a bare name {node.id!r}; add parentheses and arguments"
    if isinstance(node, ast.Constant):
        return "a plain value"
    return type(node).__name__


def _unknown_skill(name: str, registry: SkillRegistry) -> str:
    close = difflib.get_close_matches(name, registry.names(), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown skill {name!r}{hint} (only the listed skills can be called)"
