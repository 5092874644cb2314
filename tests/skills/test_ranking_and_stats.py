"""Skill retrieval for the prompt, and skill statistics across runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cradle.memory import MiniLMEmbedder
from cradle.memory.skill_index import InMemorySkillIndex
from cradle.paths import shared_skills_dir
from cradle.skills import SkillRegistry
from cradle.skills.ranking import SkillRanker
from cradle.skills.stats import SkillStats
from cradle.types import ActionOutcome, SkillCall

APP_SKILLS = {
    "save_document_as": "Save the current document under a new file name.",
    "print_document": "Send the open document to the printer.",
    "open_recent_file": "Open a file from the list of recently used files.",
    "insert_table": "Insert a table with the given number of rows and columns.",
    "change_font_size": "Make the selected text bigger or smaller.",
    "spell_check": "Check the spelling of the whole document.",
    "zoom_in": "Enlarge the view of the page.",
    "find_and_replace": "Replace every occurrence of one word with another.",
    "insert_picture": "Put an image from a file into the document.",
    "export_pdf": "Export the document as a PDF file.",
    "undo_last_change": "Undo the most recent edit.",
    "toggle_bold": "Make the selected text bold or normal.",
}


def _write_skills(folder: Path) -> None:
    folder.mkdir()
    for name, summary in APP_SKILLS.items():
        (folder / f"{name}.py").write_text(
            "from cradle.skills import SkillContext, skill\n"
            "from skills.keyboard import press_key\n\n\n@skill\n"
            f"def {name}(ctx: SkillContext) -> None:\n"
            f'    """{summary}"""\n'
            '    ctx.call(press_key, key="esc")\n'
        )


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_ranker_keeps_common_skills_and_the_best_app_skills(tmp_path: Path, embedder) -> None:
    _write_skills(tmp_path / "app")
    registry = SkillRegistry.load(trusted=[shared_skills_dir(), tmp_path / "app"])
    assert not registry.problems
    common = [s.name for s in registry if Path(s.source_file).parent == shared_skills_dir()]
    ranker = SkillRanker(InMemorySkillIndex(embedder), always_on=common, top_k=3)
    chosen = ranker.select(registry, registry.names(), "store the file with a different name")
    assert set(common) <= set(chosen)
    app_chosen = set(chosen) - set(common)
    assert len(app_chosen) == 3
    assert "save_document_as" in app_chosen

    chosen = ranker.select(registry, registry.names(), "swap every instance of a word")
    assert "find_and_replace" in chosen


def test_ranker_shows_everything_when_the_library_is_small(embedder) -> None:
    registry = SkillRegistry.load(trusted=[shared_skills_dir()])
    ranker = SkillRanker(InMemorySkillIndex(embedder), always_on=[], top_k=50)
    assert ranker.select(registry, registry.names(), "anything") == registry.names()


def _outcome(skill: str, status: str) -> ActionOutcome:
    return ActionOutcome(source=f"{skill}()", call=SkillCall(skill=skill), status=status)


def test_stats_count_calls_and_verdicts_and_merge_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "stats.json"
    first, second = SkillStats(path), SkillStats(path)
    step = [_outcome("click", "ok"), _outcome("hotkey", "failed"), _outcome("x", "rejected")]
    first.record_executed(step)
    first.record_judged(step, succeeded=True)
    first.save()
    second.record_executed([_outcome("click", "ok")])
    second.record_judged([_outcome("click", "ok")], succeeded=False)
    second.save()  # must add to, not overwrite, what the first run saved

    merged = SkillStats(path)
    assert merged.get("click").model_dump() == {"calls": 2, "successes": 1, "failures": 1}
    assert merged.get("hotkey").model_dump() == {"calls": 1, "successes": 0, "failures": 1}
    assert merged.get("x").calls == 0  # a rejected action never reached a skill
    assert merged.get("click").success_rate == 0.5


def test_broken_stats_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "stats.json"
    path.write_text("{not json")
    stats = SkillStats(path)
    assert "unreadable" in stats.problem
    stats.record_executed([_outcome("click", "ok")])
    stats.save()
    assert path.read_text() == "{not json"
    assert stats.get("click").calls == 1  # counted in memory, just not written
