"""Where skills/, prompts/ and environments/ are found: CRADLE_HOME, a wheel, a checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from cradle import paths

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_uses_the_folders_beside_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRADLE_HOME", raising=False)
    assert paths.project_dir() == ROOT
    assert paths.shared_skills_dir() == ROOT / "skills"
    assert paths.shared_prompts_dir() == ROOT / "prompts"


def test_an_installed_wheel_uses_its_shipped_copy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "site-packages" / "cradle"
    (package / paths.SHIPPED / "skills").mkdir(parents=True)
    (tmp_path / "site-packages" / "skills").mkdir()  # another distribution's folder
    monkeypatch.delenv("CRADLE_HOME", raising=False)
    monkeypatch.setattr(paths, "__file__", str(package / "paths.py"))
    assert paths.project_dir() == package / paths.SHIPPED
    assert paths.shared_skills_dir() == package / paths.SHIPPED / "skills"


def test_cradle_home_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRADLE_HOME", str(tmp_path))
    assert paths.project_dir() == tmp_path
    assert paths.shared_prompts_dir() == tmp_path / "prompts"
