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
with too many parts are rejected before the walk (:mod:`cradle.skills.policy_walk`). Passing
the check does not make code safe to run here: cradle's own process only runs the
*declarations* (:func:`cradle.skills.untrusted.compile_declarations`), and the bodies run in a
separate, OS-limited process (:mod:`cradle.skills.isolation`) as
:func:`cradle.skills.untrusted.guarded_source`, with every arithmetic operator routed through a
size guard and the builtins capped (:mod:`cradle.skills.sandbox_child`).
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from cradle.skills.allow_list import Problem
from cradle.skills.policy_walk import PolicyWalk

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
    checker = PolicyWalk(filename, known_skills)
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
