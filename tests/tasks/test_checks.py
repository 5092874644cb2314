"""Checks judge what an episode left behind: each kind passes and fails with its reason."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from cradle.tasks import EpisodePlace, checks, judge
from cradle.tasks.checks import subset_mismatch
from cradle.types import Task


def _task(*check: dict[str, Any]) -> Task:
    return Task.model_validate(
        {"id": "t", "instruction": "x", "environment": "e", "check": list(check)}
    )


@pytest.fixture
def place(tmp_path: Path) -> EpisodePlace:
    return EpisodePlace.create(tmp_path / "episode", base_env=dict(os.environ))


def _one(place: EpisodePlace, check: dict[str, Any], **kwargs: Any) -> tuple[bool, str]:
    verdict = judge(_task(check), place, **kwargs)
    [result] = verdict.checks
    assert result.kind == next(iter(check))
    assert verdict.success == result.passed
    return result.passed, result.detail


def test_command_passes_on_exit_0_in_the_episode_home(place: EpisodePlace) -> None:
    assert _one(place, {"command": f'test "$PWD" = "$HOME" && test "$HOME" = \'{place.home}\''})[0]
    passed, detail = _one(place, {"command": "echo not there; exit 3"})
    assert not passed
    assert detail == "'echo not there; exit 3' exited 3: not there"


def test_a_command_that_hangs_fails(place: EpisodePlace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "CHECK_TIMEOUT", 0.3)
    passed, detail = _one(place, {"command": "sleep 30"})
    assert not passed
    assert "exited -9: timed out after 0.3 s" in detail


def test_file_content_conditions(place: EpisodePlace) -> None:
    assert _one(place, {"file": {"path": "~/note.txt"}}) == (False, "~/note.txt does not exist")
    (place.home / "note.txt").write_text("first\nhello world\n")
    assert _one(place, {"file": {"path": "~/note.txt", "contains": "hello"}})[0]
    assert _one(place, {"file": {"path": "note.txt", "regex": "^hello w.*$"}})[0]
    assert _one(place, {"file": {"path": "~/note.txt", "equals": "first\nhello world"}})[0]
    passed, detail = _one(
        place, {"file": {"path": "~/note.txt", "contains": "bye", "regex": "^world", "equals": "x"}}
    )
    assert not passed
    assert detail == (
        "~/note.txt does not contain 'bye'; is 'first\\nhello world\\n', not 'x'"
        "; does not match /^world/"
    )


def test_file_json_subset(place: EpisodePlace) -> None:
    path = place.home / "prefs.json"
    path.write_text('{"ui": {"theme": "dark", "size": 2}, "tabs": [1, 2]}')
    assert _one(place, {"file": {"path": "~/prefs.json", "json": {"ui": {"theme": "dark"}}}})[0]
    assert _one(place, {"file": {"path": "~/prefs.json", "json": {"tabs": [1, 3]}}}) == (
        False,
        "~/prefs.json tabs[1] is 2, not 3",
    )
    path.write_text("not json")
    assert _one(place, {"file": {"path": "~/prefs.json", "json": {}}}) == (
        False,
        "~/prefs.json is not JSON",
    )


def test_a_file_too_large_fails(place: EpisodePlace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "MAX_FILE_BYTES", 10)
    (place.home / "big").write_text("x" * 11)
    assert _one(place, {"file": {"path": "~/big", "contains": "x"}}) == (
        False,
        "~/big is larger than 10 bytes",
    )


def test_screen_text_is_read_on_the_final_screen(place: EpisodePlace) -> None:
    assert _one(place, {"screen_text": "saved"}) == (False, "no final screen was captured")
    screen = Image.new("RGB", (900, 200), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 48)
    ImageDraw.Draw(screen).text((30, 60), "File note.txt saved", fill="black", font=font)
    assert _one(place, {"screen_text": "NOTE.TXT   saved"}, final_screen=screen) == (
        True,
        "'NOTE.TXT   saved' is on the final screen",
    )
    assert _one(place, {"screen_text": "not saved"}, final_screen=screen) == (
        False,
        "'not saved' is not on the final screen",
    )


def test_state_is_a_subset_of_the_environment_state(place: EpisodePlace) -> None:
    state = {"display": "42", "history": ["6*7"], "mode": "basic"}
    assert _one(place, {"state": {"display": "42"}}, state=lambda: state) == (
        True,
        "the environment's state matches",
    )
    assert _one(place, {"state": {"display": "41"}}, state=lambda: state) == (
        False,
        "display is '42', not '41'",
    )
    assert _one(place, {"state": {"display": "42"}}) == (False, "the value has no key 'display'")


def test_a_check_that_breaks_fails_the_task_not_the_harness(place: EpisodePlace) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("state unavailable")

    assert _one(place, {"state": {"a": 1}}, state=broken) == (
        False,
        "check failed to run: state unavailable",
    )


def test_the_task_passes_only_when_every_check_does(place: EpisodePlace) -> None:
    verdict = judge(_task({"command": "true"}, {"command": "false"}), place)
    assert (verdict.success, [c.passed for c in verdict.checks]) == (False, [True, False])
    assert judge(_task({"command": "true"}, {"command": "true"}), place).success


@pytest.mark.parametrize(
    ("expected", "actual", "mismatch"),
    [
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3}, ""),
        ({"a": {"b": 1}}, {"a": {"b": 2}}, "a.b is 2, not 1"),
        ({"a": 1}, {"b": 1}, "the value has no key 'a'"),
        ({"a": {"b": 1}}, {"a": [1]}, "a is not an object"),
        ([1, {"x": 1}], [1, {"x": 1, "y": 2}], ""),
        ([1, 2], [1, 2, 3], "the value is [1, 2, 3], not [1, 2]"),
        ({"l": [1, 2]}, {"l": [1, 3]}, "l[1] is 3, not 2"),
        ("x" * 200, "y", "the value is 'y', not '" + "x" * 116 + "..."),
    ],
)
def test_subset_mismatch(expected: Any, actual: Any, mismatch: str) -> None:
    assert subset_mismatch(expected, actual) == mismatch
