"""SkillRegistry: loading folders, problems with file and line, reloads, skill-to-skill calls."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cradle.errors import ActionRejected, SkillDefinitionError
from cradle.gate.executor import execute
from cradle.skills import SkillRegistry, parse_action

CORPUS = Path(__file__).parent / "corpus"

COMMON = {
    "click",
    "double_click",
    "right_click",
    "move_to",
    "drag",
    "scroll",
    "type_text",
    "press_key",
    "hotkey",
    "wait",
    "click_text",
    "click_label",
    "click_image",
    "press_element",
    "set_field_text",
    "triple_click",
    "middle_click",
    "mouse_down",
    "mouse_up",
    "hold_key",
    "hscroll",
    "click_target",
    "double_click_target",
    "right_click_target",
    "type_into",
}

GOOD = '''
from cradle.skills import skill


@skill
def {name}(screen, text: str) -> None:
    """Type {name}.

    Args:
        text: Text.
    """
    screen.type_text("{name}:" + text)
'''


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def bump(path: Path, text: str) -> None:
    """Rewrite ``path`` and make sure its mtime changes even on coarse file systems."""
    st = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_common_skills_load(common_registry: SkillRegistry) -> None:
    assert set(common_registry.names()) == COMMON
    assert len(common_registry) == len(COMMON)
    assert {s.name for s in common_registry} == COMMON
    assert "click" in common_registry
    described = common_registry.describe()
    assert len(described.splitlines()) == len(COMMON)
    assert "click(x: int, y: int) -> None  # Click the left mouse button" in described
    assert common_registry.describe(["hotkey", "nope", "click"]).splitlines() == [
        common_registry.get("hotkey").signature(),
        common_registry.get("click").signature(),
    ]


def test_get_and_require(common_registry: SkillRegistry) -> None:
    assert common_registry.get("nope") is None
    with pytest.raises(ActionRejected, match="did you mean click"):
        common_registry.require("clik")


def test_syntax_error_reported_with_line_and_others_load(tmp_path: Path) -> None:
    write(tmp_path, "a_good.py", GOOD.format(name="alpha"))
    write(tmp_path, "b_broken.py", "from cradle.skills import skill\n\n\ndef oops(:\n    pass\n")
    write(tmp_path, "c_good.py", GOOD.format(name="gamma"))
    write(tmp_path, "_private.py", "raise SystemExit")
    registry = SkillRegistry.load([tmp_path])
    assert registry.names() == ["alpha", "gamma"]
    [problem] = registry.problems
    assert isinstance(problem, SkillDefinitionError)
    assert problem.path and problem.path.endswith("b_broken.py")
    assert problem.line == 4
    assert "syntax error" in str(problem)


def test_import_error_and_missing_hint_reported(tmp_path: Path) -> None:
    write(tmp_path, "imp.py", "import not_a_module_xyz\n")
    write(tmp_path, "hint.py", GOOD.format(name="beta").replace("text: str", "text"))
    registry = SkillRegistry.load([tmp_path])
    assert len(registry) == 0
    by_file = {Path(p.path).name: p for p in registry.problems}
    assert "ModuleNotFoundError" in str(by_file["imp.py"]) and by_file["imp.py"].line == 1
    assert "needs a type hint" in str(by_file["hint.py"]) and by_file["hint.py"].line == 5


def test_missing_folder_is_a_problem(tmp_path: Path) -> None:
    registry = SkillRegistry.load([tmp_path / "nope"])
    assert len(registry) == 0
    assert "does not exist" in str(registry.problems[0])


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.py", GOOD.format(name="alpha"))
    write(tmp_path, "b.py", GOOD.format(name="alpha"))
    registry = SkillRegistry.load([tmp_path])
    assert registry.names() == ["alpha"]
    assert registry.get("alpha").source_file.endswith("a.py")
    [problem] = registry.problems
    assert "duplicate skill 'alpha'" in str(problem) and problem.path.endswith("b.py")


def test_duplicate_with_common_skills(tmp_path: Path, common_registry: SkillRegistry) -> None:
    write(tmp_path, "mine.py", GOOD.format(name="click"))
    registry = SkillRegistry.load([Path(common_registry.get("click").source_file).parent, tmp_path])
    assert "duplicate skill 'click'" in str(registry.problems[0])
    assert len(registry) == len(COMMON)


def test_reload_after_edit_add_delete(tmp_path: Path, ctx, screen) -> None:
    a = write(tmp_path, "a.py", GOOD.format(name="alpha"))
    registry = SkillRegistry.load([tmp_path])
    assert registry.names() == ["alpha"]
    assert registry.reload_changed() == []

    bump(a, GOOD.format(name="alpha").replace('"alpha:"', '"ALPHA:"'))
    write(tmp_path, "b.py", GOOD.format(name="beta"))
    assert registry.reload_changed() == []
    assert sorted(registry.names()) == ["alpha", "beta"]
    execute(parse_action("alpha('x')", registry), registry, ctx)
    assert screen.calls[-1] == ("type_text", "ALPHA:x")

    a.unlink()
    registry.reload_changed()
    assert registry.names() == ["beta"]
    with pytest.raises(ActionRejected):
        parse_action("alpha('x')", registry)

    bump(tmp_path / "b.py", "def broken(:\n")
    [problem] = registry.reload_changed()
    assert problem.line == 1 and registry.names() == []


def test_reload_is_cheap_when_nothing_changed(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, "a.py", GOOD.format(name="alpha"))
    registry = SkillRegistry.load([tmp_path])

    def boom(*args, **kwargs):
        raise AssertionError("nothing changed, nothing should be re-loaded")

    monkeypatch.setattr(registry, "_load_file", boom)
    assert registry.reload_changed() == []


def test_reload_retries_duplicates_after_the_other_file_goes(tmp_path: Path) -> None:
    a = write(tmp_path, "a.py", GOOD.format(name="alpha"))
    write(tmp_path, "b.py", GOOD.format(name="alpha"))
    registry = SkillRegistry.load([tmp_path])
    assert len(registry.problems) == 1
    a.unlink()
    registry.reload_changed()
    assert registry.problems == []
    assert registry.get("alpha").source_file.endswith("b.py")


SAVE = '''
from cradle.skills import SkillContext, skill
from skills.keyboard import hotkey


@skill
def save(ctx: SkillContext) -> None:
    """Save the document."""
    ctx.call(hotkey, "ctrl", "s")
'''

SHOUT = '''
from cradle.skills import SkillContext, skill
from skills.keyboard import type_text


@skill
def shout(ctx: SkillContext, text: str) -> str:
    """Type text loudly, then save.

    Args:
        text: Text.
    """
    ctx.call(type_text, text=text.upper())
    ctx.call("save")
    return "done"
'''


def test_skills_call_skills_across_files_in_any_order(
    tmp_path: Path, ctx, screen, common_registry
) -> None:
    # "a_shout" is loaded before "b_save" but calls it: names resolve at call time.
    write(tmp_path, "a_shout.py", SHOUT)
    write(tmp_path, "b_save.py", SAVE)
    common = Path(common_registry.get("click").source_file).parent
    registry = SkillRegistry.load([common, tmp_path])
    assert registry.problems == []
    assert execute(parse_action("shout('hi')", registry), registry, ctx) == "done"
    assert screen.calls == [("type_text", "HI"), ("hotkey", "ctrl", "s")]


def test_skill_to_skill_calls_are_validated(tmp_path: Path, ctx, common_registry) -> None:
    bad = SHOUT.replace("ctx.call(type_text, text=text.upper())", "ctx.call('click', x='a', y=1)")
    write(tmp_path, "bad.py", bad)
    write(tmp_path, "save.py", SAVE)
    common = Path(common_registry.get("click").source_file).parent
    registry = SkillRegistry.load([common, tmp_path])
    from cradle.errors import SkillBug

    # A trusted skill's call that does not fit is its author's bug, not the model's mistake.
    with pytest.raises(SkillBug, match="shout: the skill failed from a fault of its own") as bug:
        execute(parse_action("shout('hi')", registry), registry, ctx)
    assert "click: argument x='a' is not int" in bug.value.traceback


def test_skills_import_skills_beside_them(tmp_path: Path, ctx, screen, common_registry) -> None:
    # A file imports a skill of its own folder relatively, before that file is loaded itself.
    write(
        tmp_path,
        "a_twice.py",
        '''
from cradle.skills import SkillContext, skill

from .b_save import save


@skill
def save_twice(ctx: SkillContext) -> None:
    """Save twice."""
    ctx.call(save)
    ctx.call(save)
''',
    )
    write(tmp_path, "b_save.py", SAVE)
    common = Path(common_registry.get("click").source_file).parent
    registry = SkillRegistry.load([common, tmp_path])
    assert registry.problems == []
    execute(parse_action("save_twice()", registry), registry, ctx)
    assert screen.calls == [("hotkey", "ctrl", "s")] * 2


def test_calls_between_skills_need_a_running_skill(ctx) -> None:
    from cradle.errors import SkillExecutionError

    with pytest.raises(SkillExecutionError, match="needs a running skill"):
        ctx.call("click", 1, 2)


def test_untrusted_folder_is_checked(tmp_path: Path, common_registry) -> None:
    gen = tmp_path / "generated"
    gen.mkdir()
    shutil.copy(CORPUS / "ok" / "save_as.py", gen / "save_as.py")
    shutil.copy(CORPUS / "malicious" / "import_os.py", gen / "evil.py")
    common = Path(common_registry.get("click").source_file).parent
    registry = SkillRegistry.load(trusted=[common], untrusted=[gen])
    assert "save_as" in registry and registry.get("save_as").generated
    assert "evil" not in registry
    [problem] = registry.problems
    assert problem.path.endswith("evil.py") and problem.line == 2
    assert "untrusted-skill check" in str(problem)

    # The same malicious file in a trusted folder is the user's business (it would load).
    assert not registry.get("click").generated


def test_untrusted_files_may_call_skills_of_later_files(
    tmp_path: Path, ctx, screen, common_registry
) -> None:
    gen = tmp_path / "generated"
    gen.mkdir()
    shutil.copy(CORPUS / "ok" / "save_as.py", gen / "z_save_as.py")
    write(
        gen,
        "a_save_twice.py",
        '''
from cradle.skills import skill


@skill
def save_twice(screen) -> None:
    """Save under two names."""
    save_as("a.txt", False)
    save_as("b.txt", False)
''',
    )
    common = Path(common_registry.get("click").source_file).parent
    registry = SkillRegistry.load(trusted=[common], untrusted=[gen])
    assert registry.problems == []
    execute(parse_action("save_twice()", registry), registry, ctx)
    assert [c for c in screen.calls if c[0] == "type_text"] == [
        ("type_text", "a.txt"),
        ("type_text", "b.txt"),
    ]
