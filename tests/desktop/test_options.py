"""--env-option parsing and desktop options (explicit > CRADLE_DESKTOP_* > default)."""

from __future__ import annotations

import importlib

import pytest

from cradle.cli.env_options import parse_env_options
from cradle.environment import discover_environments
from cradle.errors import ConfigError


def test_parse_env_options_types() -> None:
    assert parse_env_options(
        [
            "monitor=2",
            "pause=0.05",
            "crop=false",
            "ocr=yes",
            "launch=xterm -title T=1",
            "window_title=My App",
            "x=none",
            "monitor=3",
        ]
    ) == {
        "monitor": 3,
        "pause": 0.05,
        "crop": False,
        "ocr": True,
        "launch": "xterm -title T=1",
        "window_title": "My App",
        "x": None,
    }
    assert parse_env_options([]) == {}
    with pytest.raises(ConfigError, match="use key=value"):
        parse_env_options(["monitor"])


def _options_module():
    discover_environments()  # loads the package as cradle_environments.desktop
    return importlib.import_module("cradle_environments.desktop.options")


def test_desktop_options_from_variables_and_overrides() -> None:
    resolve = _options_module().resolve_options
    env = {
        "CRADLE_DESKTOP_MONITOR": "2",
        "CRADLE_DESKTOP_WINDOW": "1.5 Editor",
        "CRADLE_DESKTOP_LAUNCH": "xterm -title 42",
        "CRADLE_DESKTOP_CROP": "false",
    }
    got = resolve({}, env)
    assert (got.monitor, got.window_title, got.launch, got.crop) == (
        2,
        "1.5 Editor",
        "xterm -title 42",
        False,
    )
    assert resolve({"monitor": 0, "crop": True}, env).monitor == 0
    assert resolve({}, {}).pause == 0.0
    with pytest.raises(ConfigError, match="unknown desktop option"):
        resolve({"monitr": 1}, {})
    with pytest.raises(ConfigError, match="must be a whole number"):
        resolve({"monitor": 1.5}, {})
