"""Bad input ends in one line that names the flag or file, before any run folder exists.

Text that is not UTF-8 (a Latin-1 ``--task``, secrets file, price table, skill file, a run
folder's files) and environment options the environment does not know (or values it cannot
use) are refused with ``cradle: error: ...`` and exit 2; nothing is half-created.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cradle.agent import AgentSettings
from cradle.environment import discover_environments, load_environment
from cradle.errors import ConfigError, TrajectoryError
from cradle.llm.scripted import ScriptedModel
from cradle.session import MemorySettings, Session, SessionSettings
from cradle.trajectory.loader import load_run
from tests.reliability.helpers import cradle_env, fused
from tests.trajectory.helpers import demo_run

LATIN1 = b"caf\xe9"
"""'café' in Latin-1: not UTF-8."""
RUN = [
    b"run",
    b"--env",
    b"mock-notepad",
    b"--no-memory",
    b"--base-url",
    b"http://127.0.0.1:9/v1",
    b"--runs-dir",
    b"runs",
]


def cradle(tmp_path: Path, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    """``python -m cradle ARGS`` with raw bytes allowed in the arguments."""
    result = subprocess.run(
        [sys.executable, "-m", "cradle", *args],
        cwd=tmp_path,
        env=cradle_env(),
        capture_output=True,
        timeout=120,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


def one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, no traceback, exactly one ``cradle: error:`` line holding every needle."""
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("cradle: error: "), lines
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "task", [[b"--task", LATIN1], [b"--task=" + LATIN1]], ids=["separate", "joined"]
)
def test_a_non_utf8_task_is_one_line_and_makes_no_run_folder(
    tmp_path: Path, task: list[bytes]
) -> None:
    one_line_error(cradle(tmp_path, *RUN, *task), "--task is not UTF-8 text", "LANG=C.UTF-8")
    assert not (tmp_path / "runs").exists()


def test_a_non_utf8_env_option_names_the_flag(tmp_path: Path) -> None:
    result = cradle(tmp_path, *RUN, b"--task", b"t", b"--env-option", b"text=" + LATIN1)
    one_line_error(result, "--env-option is not UTF-8 text")
    assert not (tmp_path / "runs").exists()


def test_a_session_refuses_a_task_that_cannot_be_recorded(tmp_path: Path) -> None:
    settings = SessionSettings(
        env="mock-notepad",
        task=LATIN1.decode("utf-8", "surrogateescape"),
        runs_dir=tmp_path / "runs",
        memory=MemorySettings(enabled=False),
    )
    with pytest.raises(ConfigError, match="the task is not UTF-8 text"):
        Session(settings, model=ScriptedModel({"fused": []}))
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("flag", "content", "needles"),
    [
        (
            "--secrets-file",
            b"# secrets\nNOTE_PW=" + LATIN1 + b"-long\n",
            ("secrets file", "input.txt:2: not UTF-8 text (byte 0xe9)"),
        ),
        ("--secrets-file", b'{"NOTE_PW": "zq\\udce9zq"}', ("secret NOTE_PW is not UTF-8 text",)),
        (
            "--prices",
            b'{"fake-vlm": [1, 2], "' + LATIN1 + b'": [1, 2]}',
            ("price table", "input.txt:1: not UTF-8 text"),
        ),
    ],
)
def test_non_utf8_input_files_are_one_line_and_make_no_run_folder(
    tmp_path: Path, flag: str, content: bytes, needles: tuple[str, ...]
) -> None:
    (tmp_path / "input.txt").write_bytes(content)
    result = cradle(tmp_path, *RUN, "--task", "t", flag, "input.txt")
    line = one_line_error(result, *needles)
    assert "-long" not in line and "zq" not in line  # no secret value is shown
    assert not (tmp_path / "runs").exists()


def test_an_oversized_secrets_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "input.txt").write_bytes(b"# padding\n" * 200_000)
    one_line_error(
        cradle(tmp_path, *RUN, "--task", "t", "--secrets-file", "input.txt"),
        "secrets file",
        "larger than 1,000,000 bytes",
    )


def _write_latin1_skill(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "latin1_skill.py"
    path.write_bytes(
        b"from cradle.skills import skill\n\n\n@skill\ndef greet(screen) -> None:\n"
        b'    """Say ' + LATIN1 + b'."""\n'
    )
    return path


def test_non_utf8_skill_files_are_a_recorded_problem_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environments = tmp_path / "environments"
    package = environments / "latin1_env"
    trusted = _write_latin1_skill(package / "skills")
    (package / "__init__.py").write_text(
        "from cradle.environment import Environment\n"
        "from cradle.screen.mock import MockScreen\n\n\n"
        "class Latin1(Environment):\n"
        "    name = 'latin1-env'\n"
        "    description = 'a mocked screen whose skill file is Latin-1'\n\n"
        "    def start(self) -> MockScreen:\n"
        "        return MockScreen((640, 480))\n\n\n"
        "environment = Latin1\n"
    )
    generated = _write_latin1_skill(tmp_path / "generated")
    monkeypatch.setenv("CRADLE_ENVIRONMENTS_PATH", str(environments))
    settings = SessionSettings(
        env="latin1-env",
        task="t",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=generated.parent,
        skill_stats=False,
        memory=MemorySettings(enabled=False),
        agent=AgentSettings(mode="fused", max_steps=3),
    )
    replies = [fused(["wait(seconds=0)"]), fused([], done=True)]
    result = Session(settings, model=ScriptedModel({"fused": replies})).run()
    assert result.exit_code == 0, result
    errors = load_run(result.run_dir).steps[0].errors
    for path in (trusted, generated):
        (line,) = [e for e in errors if str(path) in e]
        assert "utf-8" in line.lower() and "\n" not in line


def _run_commands(folder: Path) -> list[list[str]]:
    return [["report", str(folder)], ["replay", str(folder)], ["run", "--resume", str(folder)]]


def test_a_non_utf8_run_json_is_one_line_for_report_replay_and_resume(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    run_file = run.folder / "run.json"
    run_file.write_bytes(run_file.read_bytes().replace(b'"task": "', b'"task": "' + LATIN1, 1))
    for command in _run_commands(run.folder):
        one_line_error(cradle(tmp_path, *command), "run.json:", "not UTF-8 text (byte 0xe9)")


def test_an_escaped_lone_surrogate_in_a_run_is_refused_when_loading(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    run_file = run.folder / "run.json"
    info = json.loads(run_file.read_text())
    run_file.write_text(json.dumps({**info, "task": "ab\udce9cd"}))  # json escapes it: \udce9
    with pytest.raises(TrajectoryError, match="escaped lone surrogate"):
        load_run(run.folder)
    run_file.write_text(json.dumps(info))
    trajectory = run.folder / "trajectory.jsonl"
    lines = trajectory.read_text().splitlines()
    step = json.loads(lines[1])
    step["errors"] = ["bad \udce9"]
    trajectory.write_text("\n".join([lines[0], json.dumps(step), *lines[2:]]) + "\n")
    with pytest.raises(TrajectoryError, match=r"trajectory.jsonl:2: holds an escaped lone"):
        load_run(run.folder)
    one_line_error(cradle(tmp_path, "report", str(run.folder)), "trajectory.jsonl:2")


def test_a_non_utf8_step_line_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    trajectory = run.folder / "trajectory.jsonl"
    lines = trajectory.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"step":', b'"note": "' + LATIN1 + b'", "step":', 1)
    trajectory.write_bytes(b"\n".join(lines))
    for command in _run_commands(run.folder):
        one_line_error(cradle(tmp_path, *command), "trajectory.jsonl:2", "not UTF-8 text")


# --------------------------------------------------------------------------- --env-option


def test_an_unknown_env_option_lists_the_known_ones_and_makes_no_run_folder(tmp_path: Path) -> None:
    result = cradle(tmp_path, *RUN, "--task", "t", "--env-option", "colour=red")
    one_line_error(
        result, "unknown mock-notepad option(s): colour", "known: size, width, height, text"
    )
    assert not (tmp_path / "runs").exists()


def test_an_unusable_env_option_value_makes_no_run_folder(tmp_path: Path) -> None:
    result = cradle(tmp_path, *RUN, "--task", "t", "--env-option", "size=huge")
    one_line_error(result, "bad screen size", "size=1024x768")
    assert not (tmp_path / "runs").exists()


def test_every_shipped_environment_declares_and_checks_its_options() -> None:
    found = discover_environments()
    for name in ("mock-notepad", "mock-calculator", "desktop"):
        help_ = found[name].cls.option_help
        assert help_ and all(isinstance(k, str) and v.strip() for k, v in help_.items())
        with pytest.raises(ConfigError, match=rf"unknown {name} option\(s\): nope; known: "):
            load_environment(name, nope=1)
    with pytest.raises(ConfigError, match=r"known: size, width, height \(see"):
        load_environment("mock-calculator", text="not a calculator option")
    with pytest.raises(ConfigError, match="must not be negative"):
        load_environment("desktop", pause=-1)
    with pytest.raises(ConfigError, match="too small"):
        load_environment("mock-calculator", size="100x100")
    assert load_environment("mock-notepad", size="800x600", text="hi").size == (800, 600)
