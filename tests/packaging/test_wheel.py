"""A built wheel is a complete tool: installed in a fresh venv outside the checkout, `cradle`
finds the shipped environments, skills and prompts (the repository keeps them at the top)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import cradle

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("skills", "prompts", "environments")
_SKIP = ("__pycache__", ".pytest_cache", ".ruff_cache")


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part in _SKIP for part in p.parts) and p.suffix != ".pyc"
    )


def _dotted(package: str, folder: Path) -> set[str]:
    """``package`` and one name per sub-folder of ``folder`` that holds files."""
    return {package} | {
        ".".join([package, *f.parent.relative_to(folder).parts]) for f in _files(folder)
    }


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    expected = _dotted("cradle", ROOT / "cradle")
    for package, folder in config["package-dir"].items():
        expected |= _dotted(package, ROOT / folder)
    listed = set(config["packages"])
    assert (sorted(expected - listed), sorted(listed - expected)) == ([], [])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline (no build isolation) from a copy of the checkout, so that
    nothing is written into the checkout and no stale build/ folder leaks into it."""
    try:
        recent = int(metadata.version("setuptools").split(".")[0]) >= 77
    except metadata.PackageNotFoundError:
        recent = False
    if not recent:
        pytest.skip("building offline needs setuptools>=77: pip install -e '.[test]'")
    source = tmp_path_factory.mktemp("source") / "cradle"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "venv",
            "build",
            "dist",
            "runs",
            "*.egg-info",
            "generated_skills",
            "tests",
            "benchmarks",
            *_SKIP,
        ),
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    (built,) = out.glob("cradle-*.whl")
    return built


@pytest.mark.slow
def test_wheel_ships_every_file_of_the_top_level_folders(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert len(names) == len(set(names))
    for folder in SHIPPED:
        for file in _files(ROOT / folder):
            rel = file.relative_to(ROOT).as_posix()
            assert f"cradle/_shipped/{rel}" in names, rel
    assert "cradle/trajectory/templates/report.html.j2" in names
    assert {n.split("/")[0] for n in names} == {
        "cradle",
        wheel.name.split("-py3")[0] + ".dist-info",
    }


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout holding only the wheel; its dependencies are those
    of the environment running the tests, made visible by a .pth file (fast and offline)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    return venv


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "CRADLE_HOME", "CRADLE_ENVIRONMENTS_PATH", "VIRTUAL_ENV")
    }
    env.update(CRADLE_DATA_DIR=str(cwd / "data"), PYTHONNOUSERSITE="1")
    return subprocess.run([*args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


# Runs the installed `cradle` script and, at exit, writes where every cradle module, skill
# file and environment package it loaded came from.
_OBSERVE = """
import atexit, json, runpy, sys

def dump(out=sys.argv[1]):
    import cradle.paths
    found = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())
             if name.split(".")[0] in ("cradle", "cradle_environments", "cradle_skill_files")}
    found["<project_dir>"] = str(cradle.paths.project_dir())
    with open(out, "w") as handle:
        json.dump(found, handle)

atexit.register(dump)
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_from_another_folder(venv: Path, tmp_path: Path) -> None:
    script = venv / "bin" / "cradle"
    version = _run(venv, str(script), "--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (0, f"cradle {cradle.__version__}\n")

    envs = _run(venv, str(script), "envs", cwd=tmp_path)
    assert envs.returncode == 0, envs.stderr
    listed = {line.split()[0] for line in envs.stdout.splitlines() if not line.startswith(" ")}
    assert {"desktop", "mock-notepad", "mock-calculator"} <= listed

    loaded = tmp_path / "loaded.json"
    demo = _run(
        venv,
        str(venv / "bin" / "python"),
        "-c",
        _OBSERVE,
        str(loaded),
        str(script),
        "demo",
        "--runs-dir",
        str(tmp_path / "runs"),
        cwd=tmp_path,
    )
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "done"

    files = json.loads(loaded.read_text())
    assert "cradle_environments.mock_notepad" in files
    assert any(name.startswith("cradle_skill_files.") for name in files)
    installed = venv.resolve()
    for name, file in files.items():
        if file is not None:
            assert Path(file).resolve().is_relative_to(installed), (name, file)
    assert Path(files["<project_dir>"]).name == "_shipped"
