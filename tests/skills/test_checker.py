"""The untrusted-skill policy: malicious corpus rejected, an ordinary composite skill runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cradle.errors import GeneratedSkillRejected
from cradle.gate.executor import execute
from cradle.skills import (
    Problem,
    SkillRegistry,
    check_untrusted,
    load_untrusted,
    parse_action,
    save_generated,
)

CORPUS = Path(__file__).parent / "corpus"
MALICIOUS = sorted((CORPUS / "malicious").glob("*.py"))
SAVE_AS = (CORPUS / "ok" / "save_as.py").read_text(encoding="utf-8")


def test_corpus_is_big_enough() -> None:
    assert len(MALICIOUS) >= 40


@pytest.mark.parametrize("path", MALICIOUS, ids=lambda p: p.stem)
def test_malicious_sources_are_rejected(path: Path, registry: SkillRegistry) -> None:
    source = path.read_text(encoding="utf-8")
    problems = check_untrusted(source, path.name)
    assert problems, f"{path.name} passed the checker"
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.line >= 1 and problem.col >= 0 and problem.reason
        assert str(problem).startswith(f"{path.name}:{problem.line}:{problem.col}: ")
    before = registry.names()
    with pytest.raises(GeneratedSkillRejected) as info:
        load_untrusted(source, registry, origin={"run_id": "r1"})
    assert info.value.problems
    assert registry.names() == before


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("import_os", "the only import allowed"),
        ("dunder_import", "double underscore ('__import__')"),
        ("open_file", "calling 'open' is not allowed"),
        ("eval_call", "calling 'eval' is not allowed"),
        ("exec_call", "calling 'exec' is not allowed"),
        ("getattr_on_function", "calling 'getattr' is not allowed"),
        ("dunder_globals_attr", "'__globals__'"),
        ("subclasses_walk", "'__subclasses__'"),
        ("globals_call", "calling 'globals'"),
        ("vars_call", "calling 'vars'"),
        ("format_string_walk", "strings containing a double underscore"),
        ("format_no_dunder", "attribute access"),
        ("breakpoint_call", "calling 'breakpoint'"),
        ("while_true", "while loops are not allowed"),
        ("attribute_access", "attribute access"),
        ("lambda_expr", "lambda is not allowed"),
        ("list_comprehension", "comprehensions are not allowed"),
        ("nested_def", "nested function definitions"),
        ("self_call", "may not call itself"),
        ("fstring", "f-strings are not allowed"),
        ("screen_passed", "injected screen parameter cannot be used"),
        ("top_level_code", "at the top level"),
        ("other_decorator", "exactly one decorator"),
        ("annotation_call", "annotations may only be"),
        ("default_call", "defaults must be literal"),
        ("starred_call", "starred arguments"),
    ],
)
def test_reasons_are_specific(name: str, fragment: str) -> None:
    source = (CORPUS / "malicious" / f"{name}.py").read_text(encoding="utf-8")
    reasons = [p.reason for p in check_untrusted(source)]
    assert any(fragment in r for r in reasons), reasons


def test_all_problems_are_reported_with_positions() -> None:
    source = '''from cradle.skills import skill
import os


@skill
def bad(screen, n: int) -> None:
    """Bad.

    Args:
        n: N.
    """
    while n:
        pass
    x = os.path
    y = eval("1")
'''
    problems = check_untrusted(source, "bad.py")
    positions = {(p.line, p.col) for p in problems}
    assert (2, 0) in positions  # import os
    assert (12, 4) in positions  # while
    assert (14, 8) in positions  # os.path
    assert (15, 8) in positions  # eval
    assert problems == sorted(problems, key=lambda p: (p.line, p.col, p.reason))


def test_ok_composite_skill_is_accepted_loaded_and_executed(registry, ctx, screen) -> None:
    assert check_untrusted(SAVE_AS, known_skills=registry.names()) == []
    [new] = load_untrusted(SAVE_AS, registry, origin={"run_id": "r1", "step": 3})
    assert new.name == "save_as" and new.generated and new.origin["run_id"] == "r1"
    assert new.signature() == (
        "save_as(name: str, confirm: bool = True) -> None"
        "  # Save the current document under a new file name."
    )
    execute(parse_action("save_as(name='report.txt')", registry), registry, ctx)
    assert screen.calls == [
        ("hotkey", "ctrl", "shift", "s"),
        ("type_text", "report.txt"),
        ("press", "enter"),
    ]


def test_generated_skill_may_use_the_small_language(registry, ctx, screen) -> None:
    source = '''
"""Type a numbered list."""
from cradle.skills import skill


@skill(risky=True)
def numbered(screen, items: list[str], start: int = 1, sep: str | None = None) -> int:
    """Type items as a numbered list.

    Args:
        items: The lines.
        start: First number.
        sep: Separator after the number.
    """
    n = start
    mark = "." if sep is None else sep
    for item in items:
        type_text(str(n) + mark + " " + item)
        press_key("enter")
        n += 1
    for i in range(min(2, len(items))):
        pass
    for a, b in [(1, 2)]:
        n = n + a - b
    if n > 10 and not False:
        return -1
    elif abs(n) == 0:
        return 0
    return max(n - start, 0) if n else round(1.5)
'''
    [new] = load_untrusted(source, registry, origin={})
    assert new.risky
    result = execute(parse_action("numbered(['a', 'b'], start=3)", registry), registry, ctx)
    assert result == 1
    assert screen.calls == [
        ("type_text", "3. a"),
        ("press", "enter"),
        ("type_text", "4. b"),
        ("press", "enter"),
    ]


def test_name_collisions_and_unknown_skills_are_rejected(registry) -> None:
    clash = SAVE_AS.replace("def save_as(", "def click(")
    with pytest.raises(GeneratedSkillRejected, match="duplicate skill 'click'"):
        load_untrusted(clash, registry, origin={})
    unknown = SAVE_AS.replace('press_key("enter")', 'press_kee("enter")')
    with pytest.raises(GeneratedSkillRejected, match="unknown skill 'press_kee'; did you mean"):
        load_untrusted(unknown, registry, origin={})
    no_doc = SAVE_AS.replace("        confirm: Press Enter to confirm the dialog.\n", "")
    with pytest.raises(GeneratedSkillRejected, match="'confirm' needs an entry"):
        load_untrusted(no_doc, registry, origin={})
    load_untrusted(SAVE_AS, registry, origin={})
    with pytest.raises(GeneratedSkillRejected, match="duplicate skill 'save_as'"):
        load_untrusted(SAVE_AS, registry, origin={})


def test_generated_skills_can_call_earlier_generated_skills(registry, ctx, screen) -> None:
    load_untrusted(SAVE_AS, registry, origin={})
    source = '''
from cradle.skills import skill


@skill
def save_twice(screen) -> None:
    """Save under two names."""
    save_as("a.txt", False)
    save_as(name="b.txt")
'''
    load_untrusted(source, registry, origin={})
    execute(parse_action("save_twice()", registry), registry, ctx)
    assert [c for c in screen.calls if c[0] == "type_text"] == [
        ("type_text", "a.txt"),
        ("type_text", "b.txt"),
    ]


def test_save_generated_writes_a_loadable_file(tmp_path: Path, registry, ctx, screen) -> None:
    folder = tmp_path / "generated"
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    evil_task = "open Notepad\n\rimport os\u2028os.system('x')\x85# done"
    path = save_generated(SAVE_AS, folder, run_id="run-7\nx", task=evil_task, when=when)
    assert path.name == "save_as.py"
    text = path.read_text(encoding="utf-8")
    header = text.split("\n\n", 1)[0].splitlines()
    assert all(line.startswith("# ") for line in header)
    assert "# When: 2024-05-01T12:00:00+00:00" in header
    assert "# Run: run-7 x" in header
    assert any(line.startswith("# Task: open Notepad import os os.system('x')") for line in header)
    assert check_untrusted(text) == []

    # Same content again: same file. Different content: a new file, never overwritten.
    assert save_generated(SAVE_AS, folder, run_id="r", task="t", when=when) == path
    other = SAVE_AS.replace("wait(0.01)", "wait(0.02)")
    assert save_generated(other, folder, run_id="r", task="t", when=when).name == "save_as_2.py"

    common = Path(registry.get("click").source_file).parent
    (folder / "save_as_2.py").unlink()
    loaded = SkillRegistry.load(trusted=[common], untrusted=[folder])
    assert loaded.problems == []
    assert loaded.get("save_as").generated
    execute(parse_action("save_as('x', confirm=False)", loaded), loaded, ctx)
    assert screen.calls == [("hotkey", "ctrl", "shift", "s"), ("type_text", "x")]


def test_save_generated_refuses_bad_sources(tmp_path: Path) -> None:
    bad = (CORPUS / "malicious" / "import_os.py").read_text(encoding="utf-8")
    with pytest.raises(GeneratedSkillRejected):
        save_generated(bad, tmp_path, run_id="r", task="t", when=datetime.now(UTC))
    assert list(tmp_path.iterdir()) == []


def test_source_size_and_syntax_errors() -> None:
    [p] = check_untrusted("def (:\n")
    assert p.reason.startswith("syntax error") and p.line == 1
    [p] = check_untrusted("#" * 30_000)
    assert "longer than" in p.reason


def test_saved_file_supersedes_the_in_memory_source(tmp_path: Path, ctx, screen) -> None:
    """The agent loop's order: add_untrusted, save_generated, later reload_changed."""
    common = Path(__file__).resolve().parents[2] / "skills"
    folder = tmp_path / "generated"
    folder.mkdir()
    registry = SkillRegistry.load(trusted=[common], untrusted=[folder])
    load_untrusted(SAVE_AS, registry, origin={"run_id": "r9", "task": "save"})
    path = save_generated(SAVE_AS, folder, run_id="r9", task="save", when=datetime.now(UTC))
    assert registry.reload_changed() == []
    assert registry.problems == []
    found = registry.get("save_as")
    assert found.source_file == str(path.resolve())
    assert found.generated and found.origin["run_id"] == "r9"
    assert registry.names().count("save_as") == 1
    execute(parse_action("save_as('x', False)", registry), registry, ctx)
    assert screen.calls[-1] == ("type_text", "x")
