"""From a run to a skill: passes the untrusted policy, loads, and redoes the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from cradle.environment import load_environment
from cradle.errors import UsageError
from cradle.gate.executor import execute
from cradle.paths import shared_skills_dir
from cradle.playback.to_skill import skill_from_run
from cradle.screen.mapping import CoordinateMap
from cradle.skills import SkillContext, SkillRegistry, check_untrusted
from cradle.types import SkillCall
from tests.trajectory.helpers import cradle_cli, demo_run


def test_skill_source_passes_the_policy_and_has_parameters(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    source = skill_from_run(run, "save_note")
    assert check_untrusted(source) == []
    assert "text1: str = 'Hello from cradle!\\nThis note" in source
    assert "text2: str = 'hello.txt'" in source
    assert "        text2: Text typed at step 4 (recorded: 'hello.txt')." in source
    assert "    click(x=564, y=443)" in source


def test_skill_redoes_the_run_with_another_text(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    registry = SkillRegistry.load(trusted=[shared_skills_dir()])
    [made] = registry.add_untrusted(skill_from_run(run, "save_note"), origin={})
    assert [p.name for p in made.params] == ["text1", "text2"]
    environment = load_environment("mock-notepad")
    screen = environment.start()
    ctx = SkillContext(screen=screen, mapping=CoordinateMap((1024, 768), screen.geometry))
    execute(SkillCall(skill="save_note", kwargs={"text2": "other.txt"}), registry, ctx)
    assert list(environment.state()["files"]) == ["other.txt"]


def test_bad_names_and_empty_runs(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    for bad in ("Save", "1x", "class", "a__b", "with space"):
        with pytest.raises(UsageError, match="skill name"):
            skill_from_run(run, bad)
    with pytest.raises(UsageError, match="already exists"):
        skill_from_run(run, "click", known_skills={"click"})
    for record in run.steps:
        record.actions = []
    with pytest.raises(UsageError, match="no successful actions"):
        skill_from_run(run, "nothing")


def test_hostile_task_text_stays_in_the_docstring(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    run.info.task = 'x"""\nimport os\n__import__("os") \\'
    source = skill_from_run(run, "odd")
    assert check_untrusted(source) == []


def test_cli_writes_a_loadable_file(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    out = tmp_path / "generated_skills"
    result = cradle_cli(
        "skills",
        "from-run",
        str(run.folder),
        "--name",
        "save_note",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    registry = SkillRegistry.load(trusted=[shared_skills_dir()], untrusted=[out])
    assert "save_note" in registry.names() and registry.problems == []
    again = cradle_cli(
        "skills",
        "from-run",
        str(run.folder),
        "--name",
        "save_note2",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    clash = cradle_cli(
        "skills",
        "from-run",
        str(run.folder),
        "--name",
        "save_note",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert clash.returncode == 2 and "already exists" in clash.stderr
