"""The desktop environment keeps the environment contract on a real (virtual) display."""

from __future__ import annotations

import pytest

from cradle.environment import load_environment
from cradle.environment_check import check_environment


@pytest.mark.desktop
def test_desktop_keeps_the_contract(desktop_env: dict[str, str]) -> None:
    assert check_environment(load_environment("desktop", ocr=False, stop_hotkey="none")) == []
