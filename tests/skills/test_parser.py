"""parse_action: one literal-only call of a registered skill, nothing ever evaluated."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cradle.errors import ActionRejected
from cradle.skills import SkillRegistry, parse_action
from cradle.types import SkillCall


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("click(10, 20)", SkillCall(skill="click", args=[10, 20])),
        ("click(x=10, y=20)", SkillCall(skill="click", kwargs={"x": 10, "y": 20})),
        ("  click(10, y=20)  ", SkillCall(skill="click", args=[10], kwargs={"y": 20})),
        ("scroll(-5)", SkillCall(skill="scroll", args=[-5])),
        (
            "scroll(amount=-3, x=None, y=None)",
            SkillCall(skill="scroll", kwargs={"amount": -3, "x": None, "y": None}),
        ),
        ("hotkey('ctrl', 'shift', 't')", SkillCall(skill="hotkey", args=["ctrl", "shift", "t"])),
        (
            "type_text(text='a(b) = c; __init__')",
            SkillCall(skill="type_text", kwargs={"text": "a(b) = c; __init__"}),
        ),
        ("wait(+1.5)", SkillCall(skill="wait", args=[1.5])),
    ],
)
def test_accepts(source: str, expected: SkillCall, common_registry: SkillRegistry) -> None:
    assert parse_action(source, common_registry) == expected


def test_list_tuple_dict_literals(tmp_path) -> None:
    (tmp_path / "multi.py").write_text(
        '''
from cradle.skills import skill


@skill
def multi(screen, keys: list[str], opts: dict[str, int] | None = None) -> None:
    """Many values.

    Args:
        keys: Keys.
        opts: Options.
    """
''',
        encoding="utf-8",
    )
    registry = SkillRegistry.load([tmp_path])
    call = parse_action("multi(['a', 'b'], opts={'n': -1})", registry)
    assert call.args == [["a", "b"]] and call.kwargs == {"opts": {"n": -1}}
    assert parse_action("multi(('a', 'b'))", registry).args == [["a", "b"]]
    with pytest.raises(ActionRejected, match="not list"):
        parse_action("multi('ab')", registry)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("click(1, 2)" + " " * 2000 + "#", "at most 2000"),
        ("clik(1, 2)", "unknown skill 'clik'; did you mean click"),
        ("frobnicate()", "unknown skill 'frobnicate'"),
        ("os.system('rm -rf /')", "attribute access"),
        ("click(x=len('abc'), y=1)", "nested calls"),
        ("click(x=foo, y=1)", "names are not allowed as argument values ('foo')"),
        ("click(x=a.b, y=1)", "attribute access"),
        ("click(x=[i for i in range(3)], y=1)", "comprehensions"),
        ("type_text(f'{x}')", "f-strings"),
        ("type_text(text=lambda: 1)", "lambda"),
        ("hotkey(*['ctrl', 's'])", "starred"),
        ("click(**{'x': 1, 'y': 2})", "double-starred"),
        ("click(__class__=1, y=2)", "double underscores"),
        ("__import__('os')", "double underscores"),
        ("click(x=(1).__class__, y=1)", "double underscores"),
        ("click(x=a[0], y=1)", "subscripts"),
        ("click(x=1+2, y=1)", "operators are not allowed"),
        ("click(x=-(1), y=~1)", "operators are not allowed"),
        ("click(x=-True, y=1)", "minus sign"),
        ("click(x=1 if 1 else 2, y=1)", "conditional"),
        ("click(x=1 < 2, y=1)", "comparisons"),
        ("click(1, 2); click(3, 4)", "more than one statement"),
        ("click(1, 2)\nclick(3, 4)", "more than one statement"),
        ("x = click(1, 2)", "statement"),
        ("import os", "statement"),
        ("click", "bare name"),
        ("42", "not a call"),
        ("click(1, 2)(3)", "call a skill by plain name"),
        ("click(1,", "not valid Python"),
        ("click(x=b'ab', y=1)", "bytes literals"),
        ("click(x={1, 2}, y=1)", "set literals"),
        ("click(x=1, x=2)", "given twice"),
        ("click(1)", "missing a required argument: 'y'; the signature is click(x: int"),
        ("click(1, 2, 3)", "too many positional arguments"),
        ("click(x=1, y=2, z=3)", "unexpected keyword argument 'z'"),
        ("hotkey(keys='ctrl')", "signature is hotkey(*keys: str)"),
        ("click(x=(yield), y=1)", "yield"),
        ("click(x=(y:=1), y=1)", "assignment expressions"),
        ("click(" * 150 + ")" * 150, "nested calls"),
        ("click(" * 300 + ")" * 300, "action"),
        ("type_text(" + "[" * 50 + "]" * 50 + ")", "nested more than"),
        ("type_text('a\x00b')", "action"),
    ],
)
def test_rejects(source: str, reason: str, common_registry: SkillRegistry) -> None:
    with pytest.raises(ActionRejected) as info:
        parse_action(source, common_registry)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("click('12', '34')", [12, 34]),
        ("click(12.0, 7)", [12, 7]),
        ("type_text(123)", ["123"]),
        ("wait(2)", [2.0]),
        ("wait('0.5')", [0.5]),
    ],
)
def test_coercion(source: str, expected: list, common_registry: SkillRegistry) -> None:
    assert parse_action(source, common_registry).args == expected


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("click(12.7, 3)", "fractional part"),
        ("click(True, 3)", "must be int, not True"),
        ("click('twelve', 3)", "x='twelve' is not int"),
        ("type_text(True)", "must be str, not True"),
        ("scroll(1, x=None, y='top')", "y='top' is not int | None"),
        ("hotkey('ctrl', None)", "None is not str"),
    ],
)
def test_coercion_rejects(source: str, reason: str, common_registry: SkillRegistry) -> None:
    with pytest.raises(ActionRejected, match="the signature is") as info:
        parse_action(source, common_registry)
    assert reason in str(info.value)


def test_bool_does_not_accept_arbitrary_strings(tmp_path) -> None:
    (tmp_path / "flag.py").write_text(
        '''
from cradle.skills import skill


@skill
def flag(screen, on: bool) -> None:
    """Set a flag.

    Args:
        on: Whether.
    """
''',
        encoding="utf-8",
    )
    registry = SkillRegistry.load([tmp_path])
    assert parse_action("flag(True)", registry).args == [True]
    assert parse_action("flag('false')", registry).args == [False]
    for bad in ("flag('maybe')", "flag('')", "flag(2)", "flag(None)"):
        with pytest.raises(ActionRejected):
            parse_action(bad, registry)


_CALLED: list[str] = []


def _tripwire(screen, *args, **kwargs):  # pragma: no cover - must never run
    _CALLED.append("ran")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=300),
        st.from_regex(r"[a-z_]{1,12}\((\s*[-\w'\".\[\]{}:,=*()+ ]{0,40})\)", fullmatch=True),
        st.builds(
            lambda name, body: f"{name}({body})",
            st.sampled_from(["click", "hotkey", "type_text", "scroll", "wait", "evil"]),
            st.text(max_size=60),
        ),
    )
)
def test_parse_action_never_raises_anything_else(common_registry: SkillRegistry, text: str) -> None:
    originals = {s.name: s.func for s in common_registry}
    try:
        for s in common_registry:
            s.func = _tripwire
        try:
            call = parse_action(text, common_registry)
        except ActionRejected:
            return
        assert call.skill in common_registry
        assert _CALLED == []
    finally:
        for s in common_registry:
            s.func = originals[s.name]
