"""Property tests: the action parser and the untrusted-skill checker under generated input.

tests/skills covers fixed cases and random *text*; these build structured input: argument
expressions from literal and hostile node kinds, and skill sources that hide one dangerous
fragment at a random place among allowed statements.
"""

from __future__ import annotations

import ast
import builtins

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cradle.errors import ActionRejected
from cradle.paths import shared_skills_dir
from cradle.skills import SkillRegistry, check_untrusted, parse_action

REGISTRY = SkillRegistry.load([shared_skills_dir()])

# ---------------------------------------------------------------- the action parser

literals = st.recursive(
    st.one_of(
        st.integers(-(10**6), 10**6).map(repr),
        st.booleans().map(repr),
        st.just("None"),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.text(max_size=20).map(repr),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(inner, max_size=3).map(lambda xs: "(" + "".join(x + ", " for x in xs) + ")"),
    ),
    max_leaves=6,
)
HOSTILE = [
    "__import__('os')",
    "open('/etc/passwd')",
    "os.system('x')",
    "().__class__",
    "x",
    "eval('1')",
    "[i for i in range(3)]",
    "lambda: 1",
    "1 + 1",
    "f'{x}'",
    "a[0]",
    "{1, 2}",
    "*args",
    "**kw",
    "(y := 1)",
    "globals()",
    "print",
    "...",
    "b'bytes'",
    "not 1",
    "1 if 1 else 2",
    "-x",
    "{'k': open}",
]
hostile = st.sampled_from(HOSTILE)
argument = st.one_of(literals, hostile)
skill_names = st.sampled_from(
    [
        *REGISTRY.names(),
        "open",
        "eval",
        "exec",
        "__import__",
        "os.system",
        "screen.click",
        "getattr",
    ]
)


@st.composite
def calls(draw: st.DrawFn) -> str:
    name = draw(skill_names)
    args = draw(st.lists(argument, max_size=3))
    kwargs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["x", "y", "text", "key", "__class__", "seconds", "keys"]), argument
            ),
            max_size=3,
        )
    )
    parts = args + [f"{k}={v}" for k, v in kwargs]
    return f"{name}({', '.join(parts)})"


_FORBIDDEN_CALLS = ("eval", "exec", "open", "__import__", "compile", "getattr", "system")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls())
def test_parser_accepts_only_literal_calls_of_skills_and_runs_nothing(
    source: str,
) -> None:
    ran: list[str] = []
    originals = {s.name: s.func for s in REGISTRY}
    real = {
        name: getattr(builtins, name) for name in ("eval", "exec", "open", "__import__", "compile")
    }
    try:
        for s in REGISTRY:
            s.func = lambda *a, _n=s.name, **k: ran.append(_n)
        try:
            call = parse_action(source, REGISTRY)
        except ActionRejected as exc:
            assert str(exc)  # every rejection says why
            return
    finally:
        for s in REGISTRY:
            s.func = originals[s.name]
    assert ran == []
    assert all(getattr(builtins, n) is f for n, f in real.items())
    assert call.skill in REGISTRY
    tree = ast.parse(source, mode="eval").body
    assert isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)
    for node in [*tree.args, *(k.value for k in tree.keywords)]:
        ast.literal_eval(node)  # only literal values got through
    assert not any(word in source.split("(", 1)[0] for word in _FORBIDDEN_CALLS)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_parser_survives_arbitrary_characters(source: str) -> None:
    try:
        parse_action(source, REGISTRY)
    except ActionRejected:
        pass


# ---------------------------------------------------------------- the untrusted-skill checker

SAFE_STATEMENTS = [
    "n = 3",
    "total = 0",
    "for i in range(3):\n    total = total + i",
    "if n > 2:\n    n = n - 1",
    "label = 'a' + str(n)",
    "click(x=10, y=20)",
    "type_text(text='hi')",
    "pass",
    "m = max(1, min(2, 3))",
    "k = len('abc')",
]

DANGEROUS = [
    "import os",
    "from os import system",
    "__import__('os')",
    "open('/etc/passwd')",
    "eval('1+1')",
    "exec('x=1')",
    "compile('1', 'f', 'eval')",
    "getattr(n, 'real')",
    "setattr(n, 'a', 1)",
    "globals()",
    "locals()",
    "vars()",
    "breakpoint()",
    "input()",
    "screen.click(1, 2)",
    "screen",
    "n.__class__",
    "n = ().__class__",
    "x = [1][0]",
    "while True:\n    pass",
    "try:\n    pass\nexcept Exception:\n    pass",
    "with open('f') as h:\n    pass",
    "global n",
    "del n",
    "class A:\n    pass",
    "def inner():\n    pass",
    "f = lambda: 1",
    "y = [i for i in range(3)]",
    "z = f'{n}'",
    "raise ValueError()",
    "assert n",
    "type(n)",
    "print('x')",
    "os.system('ls')",
    "sys.exit()",
    "subprocess.run('ls')",
    "n = __builtins__",
    "n = '__class__'",
    "sneaky()",
    "for i in iter([1]):\n    pass",
    "n = {1, 2}",
    "n = (yield)",
    "async def g():\n    pass",
    "nonlocal n",
    "n: int = 1",
    "n = 1 @ 2",
    "for x in open('f'):\n    pass",
    "memoryview(b'')",
    "bytes(10)",
    "n = b'raw'",
]


def _indent(code: str, depth: int) -> str:
    pad = "    " * depth
    return "\n".join(pad + line for line in code.splitlines())


@st.composite
def hostile_sources(draw: st.DrawFn) -> str:
    before = draw(st.lists(st.sampled_from(SAFE_STATEMENTS), max_size=3))
    after = draw(st.lists(st.sampled_from(SAFE_STATEMENTS), max_size=3))
    bad = draw(st.sampled_from(DANGEROUS))
    wrapper = draw(
        st.sampled_from(["", "if n > 0:", "for j in range(2):", "if n:\n    pass\nelse:"])
    )
    inner = _indent(bad, 1) if wrapper else bad
    block = f"{wrapper}\n{inner}" if wrapper else inner
    body = "\n".join(["n = 1", *before, block, *after])
    return (
        "from cradle.skills import skill\n\n\n@skill\ndef generated(screen) -> None:\n"
        '    """A generated skill."""\n' + _indent(body, 1) + "\n"
    )


@st.composite
def safe_sources(draw: st.DrawFn) -> str:
    body = draw(st.lists(st.sampled_from(SAFE_STATEMENTS), min_size=1, max_size=6))
    return (
        "from cradle.skills import skill\n\n\n@skill\ndef generated(screen) -> None:\n"
        '    """A generated skill."""\n' + _indent("\n".join(["n = 1", *body]), 1) + "\n"
    )


@settings(max_examples=400, deadline=None)
@given(hostile_sources())
def test_a_dangerous_fragment_anywhere_is_rejected(source: str) -> None:
    try:
        compile(source, "<generated>", "exec")
    except SyntaxError:
        assume(False)  # e.g. nonlocal at function level: Python itself refuses it
    problems = check_untrusted(source, known_skills=REGISTRY.names())
    assert problems, source
    assert all(p.line >= 1 and p.reason for p in problems)


@settings(max_examples=100, deadline=None)
@given(safe_sources())
def test_allowed_statements_pass_and_load(source: str) -> None:
    assert check_untrusted(source, known_skills=REGISTRY.names()) == [], source
    registry = SkillRegistry.load([shared_skills_dir()])
    (added,) = registry.add_untrusted(source, origin={"test": True})
    assert added.generated and added.name == "generated"
