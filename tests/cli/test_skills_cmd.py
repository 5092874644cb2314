"""`cradle skills check`: reads files without running them; `--import` runs trusted files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cradle.cli.skills_cmd import skills_app
from cradle.paths import shared_skills_dir
from cradle.skills import SkillRegistry
from cradle.skills.static_check import MAX_FILE_BYTES, check_files

runner = CliRunner()

GOOD_BODY = '''
@skill
def wave(screen, times: int = 2) -> None:
    """Wave the mouse pointer.

    Args:
        times: How often.
    """
'''


def _check(*args: str) -> tuple[int, list[str], list[str]]:
    result = runner.invoke(skills_app, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout.splitlines(), result.stderr.splitlines()


def _write(folder: Path, name: str, source: str | bytes) -> Path:
    path = folder / name
    if isinstance(source, bytes):
        path.write_bytes(source)
    else:
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def test_top_level_code_does_not_run_unless_import_is_given(tmp_path: Path) -> None:
    marker, touched = tmp_path / "marker.txt", tmp_path / "touched.txt"
    path = _write(
        tmp_path,
        "evil.py",
        textwrap.dedent(f"""
        import os
        from pathlib import Path

        from cradle.skills import skill

        Path({str(marker)!r}).write_text("ran")
        os.system("touch {touched}")
        """)
        + GOOD_BODY,
    )

    code, out, err = _check(str(path))
    assert (code, err) == (0, [])
    assert "wave(times: int = 2) -> None  # Wave the mouse pointer." in out[0]
    assert out[-1] == "ok: 1 skill(s) in 1 file(s)"
    assert not marker.exists() and not touched.exists()

    code, out, _ = _check(str(path), "--import")
    assert code == 0 and out[-1] == "ok: 1 skill(s) in 1 file(s)"
    assert marker.read_text() == "ran" and touched.exists()


def test_untrusted_is_the_allow_list_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    evil = _write(
        tmp_path,
        "evil.py",
        textwrap.dedent(f"""
        from cradle.skills import skill

        open({str(marker)!r}, "w").write("ran")
        """)
        + GOOD_BODY,
    )
    good = _write(tmp_path, "good.py", "from cradle.skills import skill\n" + GOOD_BODY)
    code, _, err = _check("--untrusted", str(evil))
    assert code == 1 and "only the import, docstrings and @skill functions" in err[0]
    assert not marker.exists()
    assert _check("--untrusted", str(good))[0] == 0
    empty = _write(tmp_path, "empty.py", "from cradle.skills import skill\n")
    code, _, err = _check("--untrusted", str(empty))
    assert code == 1 and err[0].endswith("the source defines no @skill function")


HEADER = (
    "from __future__ import annotations\n\nfrom typing import Literal\n\n"
    "from cradle.skills import skill\n\n"
)
BROKEN = {
    "no_hint": 'def f(screen, x) -> None:\n    """Do.\n\n    Args:\n        x: X.\n    """\n',
    "no_args_entry": 'def f(screen, x: int) -> None:\n    """Do."""\n',
    "unknown_arg": 'def f(screen) -> None:\n    """Do.\n\n    Args:\n        y: Y.\n    """\n',
    "async": 'async def f(screen) -> None:\n    """Do."""\n',
    "generator": 'def f(screen) -> None:\n    """Do."""\n    yield 1\n',
    "underscore": 'def _f(screen) -> None:\n    """Do."""\n',
    "no_screen": 'def f() -> None:\n    """Do."""\n',
    "kwargs": 'def f(screen, **kw: int) -> None:\n    """Do."""\n',
    "unsupported": 'def f(screen, x: set[int]) -> None:\n    """Do.\n\n    Args:\n'
    '        x: X.\n    """\n',
    "bad_literal": 'def f(screen, x: Literal[b"a"]) -> None:\n    """Do.\n\n    Args:\n'
    '        x: X.\n    """\n',
    "no_doc": "def f(screen) -> None:\n    pass\n",
    "undefined_hint": 'def f(screen, x: Foo) -> None:\n    """Do.\n\n    Args:\n'
    '        x: X.\n    """\n',
    "duplicate": 'def click(screen, x: int, y: int) -> None:\n    """Do.\n\n    Args:\n'
    '        x: X.\n        y: Y.\n    """\n',
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_static_problems_are_the_loaders(tmp_path: Path, case: str) -> None:
    path = _write(tmp_path, f"{case}.py", HEADER + "\n@skill\n" + BROKEN[case])
    static = _check(str(path))
    loaded = _check(str(path), "--import")
    assert static[0] == 1 and static[2], static
    assert static == loaded


@pytest.mark.parametrize(
    "source",
    [
        b"from cradle.skills import skill\n# caf\xe9\n",  # not UTF-8 (Python skips comments)
        b"from cradle.skills import skill\nx = 'caf\xe9'\n",
        b"def f(:\n",
        b"return 1\n",  # the compiler's error, not the parser's
        b"x = 1\x00\n",
        b"@skill\ndef f(screen) -> None:\n    'Do.'\n",  # skill is not imported
        b"from cradle.skills import skill\n@skill(True)\ndef f(screen) -> None:\n    'Do.'\n",
    ],
)
def test_files_that_cannot_load_are_problems_with_a_line(tmp_path: Path, source: bytes) -> None:
    path = _write(tmp_path, "broken.py", source)
    code, out, err = _check(str(path))
    assert code == 1 and len(err) == 2 and "broken.py" in err[0], (out, err)
    assert err[1] == "1 problem(s) in 1 file(s)"


def test_hints_that_need_the_file_to_run_say_so(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "alias.py",
        HEADER + "Coord = int\n\n@skill\n" + BROKEN["undefined_hint"].replace("Foo", "Coord"),
    )
    code, _, err = _check(str(path))
    assert code == 1 and "'Coord' is set when the file runs" in err[0] and "--import" in err[0]
    assert _check(str(path), "--import")[0] == 0


def test_string_hints_literals_and_defaults_read_statically(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "fancy.py",
        '''
        from __future__ import annotations

        import typing as t

        from cradle.skills import skill

        LIMIT = 3


        @skill(risky=True)
        def pick(screen, mode: t.Literal["a", "b"], n: "int | None" = LIMIT,
                 *names: str, exact: t.Optional[bool] = None) -> list[str]:
            """Pick things.

            Args:
                mode: Which way.
                n: How many.
                names: Which ones.
                exact: Match exactly.
            """
            return []
        ''',
    )
    static = check_files([path], shared=[shared_skills_dir()])[0]
    loaded = SkillRegistry.load(trusted=[path]).get("pick")
    assert static.problems == [] and loaded is not None
    assert [s.signature() for s in static.skills] == [
        loaded.signature().replace("n: int | None = 3", "n: int | None = LIMIT")
    ]
    assert static.skills[0].risky and static.skills[0].line == loaded.line


def test_shipped_skills_read_statically_match_the_loaded_ones() -> None:
    folders = [
        shared_skills_dir(),
        *Path(shared_skills_dir().parent, "environments").glob("*/skills"),
    ]
    files = [p for folder in folders for p in sorted(folder.glob("*.py"))]
    reports = check_files(files, shared=[shared_skills_dir()])
    static = sorted((s.signature(), s.line) for r in reports for s in r.skills)
    loaded = sorted((s.signature(), s.line) for s in SkillRegistry.load(trusted=folders))
    assert [p for r in reports for p in r.problems] == []
    assert static == loaded and len(static) >= 10


def test_huge_and_deeply_nested_files_are_one_line_problems(tmp_path: Path) -> None:
    huge = _write(tmp_path, "huge.py", b"#" * (MAX_FILE_BYTES + 1))
    deep = _write(tmp_path, "deep.py", "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    nested = _write(tmp_path, "nested.py", "x = " + "-" * 200_000 + "1\n")
    for path in (huge, deep, nested):
        code, _, err = _check(str(path))
        assert code == 1 and len(err) == 2 and path.name in err[0], err
