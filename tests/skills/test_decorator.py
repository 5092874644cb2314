"""@skill: schema from hints and docstrings, and definition errors with file and line."""

from __future__ import annotations

import inspect
import re
from typing import Literal

import pytest

from cradle.errors import SkillDefinitionError
from cradle.skills import Skill, skill
from cradle.skills.decorator import get_skill, parse_docstring


def test_schema_from_hints_and_docstring() -> None:
    @skill
    def scroll_at(screen, amount: int, x: int | None = None, mode: Literal["a", "b"] = "a"):
        """Scroll somewhere.

        More text that is not the summary.

        Args:
            amount: Notches to scroll;
                positive is up.
            x (int): Where.
            mode: Which mode.
        """
        return (screen, amount, x, mode)

    s = get_skill(scroll_at)
    assert isinstance(s, Skill)
    assert s.name == "scroll_at" and s.summary == "Scroll somewhere."
    assert [p.name for p in s.params] == ["amount", "x", "mode"]
    assert s.params[0].description == "Notches to scroll; positive is up."
    assert s.params[0].required and not s.params[1].required
    assert s.params[1].default is None
    assert s.params[2].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert s.risky is False
    assert s.source_file == __file__
    assert s.signature() == (
        "scroll_at(amount: int, x: int | None = None, mode: Literal['a', 'b'] = 'a') -> None"
        "  # Scroll somewhere."
    )
    # Still a normal function.
    assert scroll_at("ctx", 3) == ("ctx", 3, None, "a")


def test_risky_flag_varargs_and_keyword_only() -> None:
    @skill(risky=True)
    def combo(screen, *keys: str, times: int = 1) -> str:
        """Press a combo.

        Args:
            *keys: Key names.
            times: How often.
        """
        return "+".join(keys) * times

    s = get_skill(combo)
    assert s is not None and s.risky
    assert s.params[0].kind is inspect.Parameter.VAR_POSITIONAL
    assert s.signature() == "combo(*keys: str, times: int = 1) -> str  # Press a combo."
    assert combo(None, "a", "b", times=2) == "a+ba+b"


def test_keyword_only_marker_in_signature() -> None:
    @skill
    def f(screen, a: int, *, b: list[str]) -> None:
        """Do f.

        Args:
            a: A.
            b: B.
        """

    assert get_skill(f).signature() == "f(a: int, *, b: list[str]) -> None  # Do f."


def test_missing_type_hint_names_file_and_line() -> None:
    with pytest.raises(SkillDefinitionError) as info:

        @skill
        def bad(screen, x) -> None:
            """Bad.

            Args:
                x: X.
            """

    err = info.value
    assert "'x' needs a type hint" in str(err)
    assert err.path == __file__ and isinstance(err.line, int)
    assert f"{__file__}:{err.line}" in str(err)


def test_missing_args_entry() -> None:
    with pytest.raises(SkillDefinitionError, match="'y' needs an entry in the docstring"):

        @skill
        def bad(screen, x: int, y: int) -> None:
            """Bad.

            Args:
                x: X.
            """


@pytest.mark.parametrize(
    ("source_kind", "message"),
    [
        ("no_doc", "add a docstring"),
        ("kwargs", "**opts is not allowed"),
        ("unsupported", "is not supported"),
        ("extra_arg_doc", "describes unknown parameters: z"),
        ("no_params", "first parameter must be the injected screen"),
        ("private", "must not start with an underscore"),
    ],
)
def test_other_definition_errors(source_kind: str, message: str) -> None:
    def no_doc(screen) -> None:
        pass

    def kwargs(screen, **opts: int) -> None:
        """K."""

    def unsupported(screen, x: set[int]) -> None:
        """U.

        Args:
            x: X.
        """

    def extra_arg_doc(screen, x: int) -> None:
        """E.

        Args:
            x: X.
            z: Z.
        """

    def no_params() -> None:
        """N."""

    def _private(screen) -> None:
        """P."""

    funcs = {
        "no_doc": no_doc,
        "kwargs": kwargs,
        "unsupported": unsupported,
        "extra_arg_doc": extra_arg_doc,
        "no_params": no_params,
        "private": _private,
    }
    with pytest.raises(SkillDefinitionError, match=re.escape(message)):
        skill(funcs[source_kind])


def test_parse_docstring_sections() -> None:
    summary, args = parse_docstring(
        "Do it\nin two lines.\n\nArgs:\n    a (int): First.\n        More.\n    b: Second.\n"
        "\nReturns:\n    c: not an arg.\n"
    )
    assert summary == "Do it in two lines."
    assert args == {"a": "First. More.", "b": "Second."}
