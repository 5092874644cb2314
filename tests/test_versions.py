"""The versions a run records in run.json: cradle's own, the interpreter's and the installed
libraries', so a run can be explained later; a library that is not installed is left out."""

from __future__ import annotations

import platform
from importlib import metadata

import pytest

import cradle
from cradle import versions as versions_module
from cradle.versions import versions


def test_cradle_python_and_platform_are_always_recorded() -> None:
    found = versions()
    assert found["cradle"] == cradle.__version__
    assert found["python"] == platform.python_version()
    assert found["platform"] == platform.platform()


def test_installed_libraries_are_recorded_with_their_versions() -> None:
    found = versions()
    assert found["pydantic"] == metadata.version("pydantic")
    assert all(isinstance(value, str) and value for value in found.values())


def test_a_library_that_is_not_installed_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(versions_module, "_PACKAGES", ("pydantic", "no-such-package-for-cradle"))
    found = versions()
    assert "pydantic" in found
    assert "no-such-package-for-cradle" not in found
