"""The public API: every name ``cradle.__all__`` promises resolves, and importing ``cradle``
stays free (its names are imported on first use)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cradle

PROJECT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", cradle.__all__)
def test_every_public_name_resolves_to_what_its_module_defines(name: str) -> None:
    value = getattr(cradle, name)
    assert value is not None
    if name != "__version__":
        home = sys.modules[cradle._HOMES[name]]
        assert getattr(home, name) is value


def test_the_public_names_and_their_homes_agree() -> None:
    assert sorted(cradle.__all__) == sorted({"__version__", *cradle._HOMES})
    assert set(cradle.__all__) <= set(dir(cradle))


def test_an_unknown_name_is_an_attribute_error_and_submodules_still_import() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        cradle.nothing_here  # noqa: B018
    from cradle import paths

    assert paths.__name__ == "cradle.paths"


def test_importing_cradle_imports_nothing_of_ours_or_heavy() -> None:
    """``import cradle`` loads no submodule of cradle and no library beyond the interpreter's
    own start (pydantic, numpy, PIL, the model SDKs and chromadb included)."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import cradle\n"
        "print(','.join(sorted(set(sys.modules) - before - {'cradle'})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=PROJECT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
