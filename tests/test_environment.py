"""Environments are found on the search path and built with their folder passed in."""

from __future__ import annotations

from cradle.environment import discover_environments, load_environment


def test_a_loaded_environment_is_given_its_folder_and_the_class_is_left_alone() -> None:
    info = discover_environments()["mock-notepad"]
    notepad = load_environment("mock-notepad", text="hi")
    assert notepad.folder == info.folder
    assert notepad.skill_folders() == [info.folder / "skills"]
    assert notepad.options == {"text": "hi"}  # the folder is not an option
    assert "folder" not in vars(info.cls)  # discovery patches no class


def test_an_environment_built_by_hand_has_no_folder_of_skills_or_prompts() -> None:
    cls = discover_environments()["mock-notepad"].cls
    bare = cls()
    assert bare.folder is None
    assert bare.skill_folders() == [] and bare.prompt_folder() is None
