"""Option groups: a dataclass of typer options is one parameter of a command, expanded into
its flags for typer and rebuilt from the parsed values; settings defaults are read lazily."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from cradle.cli.option_groups import SettingDefault, option_groups

looked_up: list[str] = []


def _owner() -> type:
    looked_up.append("owner")

    @dataclass
    class Settings:
        steps: int = 20

    return Settings


@dataclass
class Inner:
    name: Annotated[str, typer.Option("--name", help="A name.")] = "x"


@dataclass
class Outer:
    steps: Annotated[int, typer.Option("--steps", min=1, help="Steps.")] = SettingDefault(
        _owner, "steps"
    )
    inner: Inner = None  # type: ignore[assignment]


def app_with(command: object) -> typer.Typer:
    app = typer.Typer()
    app.command()(command)
    app.command("other")(lambda: None)
    return app


def test_a_group_becomes_its_flags_and_comes_back_as_one_value() -> None:
    seen: list[Outer] = []

    @option_groups
    def command(ctx: typer.Context, outer: Outer) -> None:
        seen.append(outer)

    result = CliRunner().invoke(app_with(command), ["command", "--steps", "3", "--name", "y"])
    assert result.exit_code == 0, result.output
    assert seen == [Outer(steps=3, inner=Inner(name="y"))]


def test_the_settings_default_is_used_and_shown_but_not_read_for_other_commands() -> None:
    seen: list[Outer] = []

    @option_groups
    def command(outer: Outer) -> None:
        seen.append(outer)

    app = app_with(command)
    looked_up.clear()
    assert CliRunner().invoke(app, ["other"]).exit_code == 0
    assert looked_up == []
    assert CliRunner().invoke(app, ["command"]).exit_code == 0
    assert seen[0].steps == 20
    help_text = CliRunner().invoke(app, ["command", "--help"], env={"COLUMNS": "120"}).output
    assert "--steps" in help_text and "[default: 20]" in help_text


def test_two_options_of_one_name_are_refused() -> None:
    with pytest.raises(TypeError, match="used twice"):

        @option_groups
        def command(outer: Outer, inner: Inner) -> None:
            pass
