"""What a step is remembered as: the recent-steps window's summary and the store's text."""

from __future__ import annotations

from cradle.memory.steps import memory_id, step_success, step_text, summarize
from tests.memory.helpers import make_record

TASK = "save the shopping list as list.txt"


def test_window_summary_and_store_text_read_the_step_the_same_way() -> None:
    record = make_record(
        "run-a",
        2,
        "save the file",
        [("hotkey('ctrl', 's')", "ok", ""), ("type_text(text='list.txt')", "failed", "no dialog")],
    )
    summary = summarize(record)
    assert (summary.step, summary.subtask) == (2, "save the file")
    assert summary.actions == ["hotkey('ctrl', 's')", "type_text(text='list.txt')"]
    assert summary.outcome == "ok, failed (no dialog)"
    assert step_text(TASK, record).splitlines() == [
        f"Task: {TASK}",
        "Subtask: save the file",
        "Actions: hotkey('ctrl', 's') -> ok; type_text(text='list.txt') -> failed (no dialog)",
    ]
    assert not step_success(record)


def test_a_step_without_actions_says_so_and_keeps_its_errors() -> None:
    record = make_record("run-a", 1, "", errors=["the model's reply was not JSON"])
    assert summarize(record).outcome == "no actions; errors: the model's reply was not JSON"
    assert step_text(TASK, record).splitlines() == [
        f"Task: {TASK}",
        "Errors: the model's reply was not JSON",
    ]
    assert not step_success(record)


def test_store_text_is_one_line_per_field_clipped_and_names_the_failure() -> None:
    record = make_record(
        "run-a",
        3,
        "open\nthe   menu " + "x" * 600,
        [("click(x=1, y=2)", "ok", "")],
        reflection=(False, "nothing opened", "the click missed"),
    )
    lines = step_text(TASK, record).splitlines()
    assert lines[1].startswith("Subtask: open the menu x") and lines[1].endswith("…")
    assert len(lines[1]) == len("Subtask: ") + 400
    assert lines[3] == "Reflection: nothing opened Failed because: the click missed"
    assert step_success(record)


def test_the_window_bounds_how_many_actions_a_step_shows() -> None:
    record = make_record(
        "run-a", 1, "type", [(f"press_key(key='{i}')", "ok", "") for i in range(30)]
    )
    actions = summarize(record).actions
    assert len(actions) == 10 and actions[:9] == [f"press_key(key='{i}')" for i in range(9)]


def test_ids_are_deterministic_so_a_resumed_run_replaces_its_steps() -> None:
    assert memory_id("step", "run-a", 3) == "step:run-a:3" == memory_id("step", "run-a", 3)
    assert memory_id("run", "run-a") == "run:run-a"
