"""Skill files run as modules of their folder's package, so their imports resolve."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest

from cradle.paths import shared_skills_dir
from cradle.skills import SkillRegistry
from cradle.skills.loader import PRIVATE_ROOT, SHARED_PACKAGE

NOTE = '''
from cradle.skills import SkillContext, skill


@skill
def note(ctx: SkillContext) -> None:
    """Take a note."""
'''


def test_the_shared_skills_are_the_skills_package() -> None:
    registry = SkillRegistry.load([shared_skills_dir()])
    click = registry.get("click")
    assert click is not None and click.func.__module__ == f"{SHARED_PACKAGE}.mouse"
    assert sys.modules[f"{SHARED_PACKAGE}.mouse"].click is click.func


def test_other_folders_are_private_packages(tmp_path: Path) -> None:
    (tmp_path / "note.py").write_text(NOTE, encoding="utf-8")
    registry = SkillRegistry.load([tmp_path])
    module = registry.get("note").func.__module__
    assert module.startswith(f"{PRIVATE_ROOT}.f") and module.endswith(".note")
    (tmp_path / "note.py").unlink()
    registry.reload_changed()
    assert module not in sys.modules  # a dropped file's module goes


def test_another_skills_package_keeps_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    foreign = types.ModuleType(SHARED_PACKAGE)
    monkeypatch.setitem(sys.modules, SHARED_PACKAGE, foreign)
    registry = SkillRegistry.load([shared_skills_dir()])
    assert registry.problems == []
    assert registry.get("click").func.__module__.startswith(f"{PRIVATE_ROOT}.f")
    assert sys.modules[SHARED_PACKAGE] is foreign


def test_a_file_that_fails_leaves_no_module(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('no')\n", encoding="utf-8")
    registry = SkillRegistry.load([tmp_path])
    assert "RuntimeError: no" in str(registry.problems[0])
    assert not [name for name in sys.modules if name.endswith(".broken")]


OLD_STYLE = '''
from cradle.skills import SkillContext, skill


@skill
def open_item(ctx: SkillContext, x: int) -> None:
    """Open an item.

    Args:
        x: Where the item is.
    """
    for dx in (0, 1):
        label = f"item {dx}"
    click(x=x + dx, y=10)
    type_text(text=label)
'''


def test_a_name_used_but_never_imported_refuses_the_file_at_load(tmp_path: Path) -> None:
    """A file written for injected skill names fails when loaded, with the line, not later
    in a task with a NameError."""
    (tmp_path / "old.py").write_text(OLD_STYLE, encoding="utf-8")
    registry = SkillRegistry.load([tmp_path])
    assert registry.get("open_item") is None
    (problem,) = registry.problems
    assert problem.line == 14 and str(problem.path).endswith("old.py")
    assert "click is used but never defined or imported" in str(problem)
    assert "from skills.<file> import click" in str(problem)
    assert not [name for name in sys.modules if name.endswith(".old")]


def test_imported_and_locally_bound_names_are_not_free(tmp_path: Path) -> None:
    fixed = OLD_STYLE.replace(
        "from cradle.skills import SkillContext, skill\n",
        "from cradle.skills import SkillContext, skill\n"
        "from skills.keyboard import type_text\nfrom skills.mouse import click\n",
    )
    (tmp_path / "fixed.py").write_text(fixed, encoding="utf-8")
    registry = SkillRegistry.load([shared_skills_dir(), tmp_path])
    assert registry.problems == []
    assert registry.get("open_item") is not None


def test_a_skills_package_of_the_users_own_is_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project with its own top-level ``skills`` package on the path, not imported yet:
    the shared skills take a private name, and the project's package still imports."""
    own = tmp_path / "project" / "skills"
    own.mkdir(parents=True)
    (own / "__init__.py").write_text("MINE = 1\n", encoding="utf-8")
    (own / "mine.py").write_text("X = 2\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(own.parent))
    for name in [n for n in sys.modules if n == SHARED_PACKAGE or n.startswith("skills.")]:
        monkeypatch.delitem(sys.modules, name)
    registry = SkillRegistry.load([shared_skills_dir()])
    assert registry.problems == []
    assert registry.get("click").func.__module__.startswith(f"{PRIVATE_ROOT}.f")
    assert importlib.import_module("skills").MINE == 1
    assert importlib.import_module("skills.mine").X == 2
