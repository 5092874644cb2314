"""An episode's place (own home, temp folder, display) and the setup steps run in it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cradle.errors import EnvironmentFailure
from cradle.screen.xvfb import virtual_display
from cradle.tasks import EpisodePlace, run_setup, setup
from cradle.types import LaunchApp, Task


def _task(*steps: dict[str, object]) -> Task:
    return Task.model_validate(
        {
            "id": "t",
            "instruction": "x",
            "environment": "e",
            "setup": list(steps),
            "check": [{"command": "true"}],
        }
    )


def _alive(pid: int, *, within: float = 0.0) -> bool:
    """Whether ``pid`` runs (not a zombie), still after ``within`` seconds of waiting for it to
    end (a killed process takes a moment to die and be reaped)."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except FileNotFoundError:
            return False
        if state == "Z" or time.monotonic() >= deadline:
            return state != "Z"
        time.sleep(0.02)


@pytest.fixture
def place(tmp_path: Path) -> Iterator[EpisodePlace]:
    created = EpisodePlace.create(tmp_path / "episode", base_env={"PATH": os.environ["PATH"]})
    yield created
    created.close()


@pytest.fixture(scope="module")
def display() -> Iterator[dict[str, str]]:
    """A display kept connected by an idle client: Xvfb resets when its last client leaves,
    and a client connecting during the reset is refused (xterm exits 1)."""
    try:
        with virtual_display((800, 600)) as env:
            idle = subprocess.Popen(
                ["xev", "-root"],
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                yield env
            finally:
                idle.kill()
                idle.wait()
    except EnvironmentFailure as exc:
        pytest.fail(f"{exc} (tests/run.sh installs what the desktop tests need)")


def test_a_place_has_its_own_folders_and_environment(tmp_path: Path) -> None:
    place = EpisodePlace.create(tmp_path / "ep", display=":7", base_env={"PATH": "/bin"})
    home = tmp_path / "ep" / "home"
    assert place.home == home and home.is_dir()
    assert place.env == {
        "PATH": "/bin",
        "HOME": str(home),
        "TMPDIR": str(tmp_path / "ep" / "tmp"),
        "XDG_RUNTIME_DIR": str(tmp_path / "ep" / "tmp" / "runtime"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "DISPLAY": ":7",
    }
    assert (tmp_path / "ep" / "tmp" / "runtime").stat().st_mode & 0o777 == 0o700


def test_tilde_and_relative_paths_are_in_the_home(place: EpisodePlace) -> None:
    assert place.expand("~") == place.home
    assert place.expand("~/a/b.txt") == place.home / "a" / "b.txt"
    assert place.expand("c.txt") == place.home / "c.txt"
    assert place.expand("/etc/hostname") == Path("/etc/hostname")


def test_steps_run_in_order_in_the_home_with_its_environment(place: EpisodePlace) -> None:
    task = _task(
        {"file": {"path": "~/in/draft.txt", "content": "draft"}},
        {"run": 'cat ~/in/draft.txt > copy.txt; echo "$HOME $TMPDIR" >> copy.txt'},
        {"sleep": 0.05},
    )
    assert run_setup(task, place) == ""
    assert (place.home / "copy.txt").read_text() == (f"draft{place.home} {place.env['TMPDIR']}\n")


def test_a_failing_run_step_stops_setup_with_its_reason(place: EpisodePlace) -> None:
    task = _task(
        {"run": "echo first > a"},
        {"run": "echo boom; exit 3"},
        {"file": {"path": "~/never.txt", "content": "x"}},
    )
    assert run_setup(task, place) == "setup step 2 (run): exit 3: boom"
    assert (place.home / "a").is_file()
    assert not (place.home / "never.txt").exists()


def test_a_file_step_that_cannot_write_says_so(place: EpisodePlace) -> None:
    (place.home / "taken").mkdir()
    problem = run_setup(_task({"file": {"path": "~/taken", "content": "x"}}), place)
    assert problem.startswith(f"setup step 1 (file): cannot write {place.home / 'taken'}: ")


def test_shell_output_is_a_bounded_tail(place: EpisodePlace) -> None:
    code, output = place.shell("seq 1 100000")
    assert code == 0
    assert len(output) == setup.MAX_OUTPUT_CHARS
    assert output.endswith("99999\n100000")


def test_a_command_that_hangs_is_killed_with_its_children(place: EpisodePlace) -> None:
    start = time.monotonic()
    code, output = place.shell("sleep 30 & echo $! > child; wait", timeout=0.5)
    assert (code, output) == (-9, "timed out after 0.5 s")
    assert time.monotonic() - start < 5
    assert not _alive(int((place.home / "child").read_text()), within=5)


def test_a_background_process_does_not_hold_the_step(place: EpisodePlace) -> None:
    start = time.monotonic()
    code, output = place.shell("sleep 30 & echo $! > child; echo started", timeout=20)
    child = int((place.home / "child").read_text())
    try:
        assert (code, output) == (0, "started")
        assert time.monotonic() - start < 5
    finally:
        os.kill(child, 9)


def test_launch_without_a_window_is_kept_until_close(place: EpisodePlace) -> None:
    assert place.launch(LaunchApp(command="exec sleep 30")) == ""
    [proc] = place.processes
    assert _alive(proc.pid)
    place.close()
    assert not _alive(proc.pid, within=5)
    assert place.processes == []


def test_launched_apps_get_the_accessibility_variables(place: EpisodePlace) -> None:
    """Chromium and Qt expose their accessibility tree only when told to, by environment."""
    assert place.launch(LaunchApp(command="env > launched.env")) == ""
    deadline = time.monotonic() + 5
    while "QT_ACCESSIBILITY=1" not in _read(place.home / "launched.env"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    lines = _read(place.home / "launched.env").splitlines()
    assert {"ACCESSIBILITY_ENABLED=1", "QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1"} <= set(lines)
    assert "ACCESSIBILITY_ENABLED" not in place.env, "setup commands and checks do not get it"
    place.close()


def _read(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


def test_launch_reasons_without_a_display(tmp_path: Path) -> None:
    place = EpisodePlace.create(tmp_path / "ep", base_env={"PATH": os.environ["PATH"]})
    try:
        assert place.launch(LaunchApp(command="true", window="x")) == (
            "cannot await window 'x': the episode has no display"
        )
    finally:
        place.close()


@pytest.mark.desktop
def test_launch_awaits_the_window_and_close_kills_it(
    tmp_path: Path, display: dict[str, str]
) -> None:
    assert shutil.which("xterm"), "xterm is not installed: run tests/run.sh"
    title = f"cradle-task-{uuid.uuid4().hex[:8]}"
    place = EpisodePlace.create(
        tmp_path / "ep", display=display["DISPLAY"], base_env={**os.environ, **display}
    )
    try:
        task = _task({"launch": {"command": f"xterm -T {title}", "window": f"^{title}$"}})
        assert run_setup(task, place) == ""
        assert _windows(title, place) != ""
    finally:
        place.close()
    deadline = time.monotonic() + 5
    while _windows(title, place) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _windows(title, place) == ""


@pytest.mark.desktop
def test_launch_reasons_on_a_display(tmp_path: Path, display: dict[str, str]) -> None:
    place = EpisodePlace.create(
        tmp_path / "ep", display=display["DISPLAY"], base_env={**os.environ, **display}
    )
    try:
        never = LaunchApp(command="exec sleep 30", window="no-such-window", timeout=0.5)
        assert place.launch(never) == "no window titled 'no-such-window' within 0.5 s"
        broken = LaunchApp(command="exit 3", window="x", timeout=10)
        assert place.launch(broken) == "the app exited with code 3 before its window showed"
    finally:
        place.close()


def _windows(title: str, place: EpisodePlace) -> str:
    found = subprocess.run(
        ["xdotool", "search", "--name", f"^{title}$"],
        env=place.env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    return found.stdout.strip()


def test_a_command_running_when_the_episode_is_stopped_is_ended_with_it(tmp_path: Path) -> None:
    """SIGTERM reaches the episode while a setup command runs (a stopped eval): the command,
    in a session of its own, must not outlive it."""
    script = (
        "import signal, sys\n"
        "from pathlib import Path\n"
        "from cradle.tasks import EpisodePlace\n"
        "def stop(*_):\n"
        "    raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        f"place = EpisodePlace.create(Path({str(tmp_path / 'ep')!r}), base_env={{'PATH': "
        f"{os.environ['PATH']!r}}})\n"
        "try:\n"
        "    place.shell('echo $$ > pid; exec sleep 40')\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(143)\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[2])
    pid_file = tmp_path / "ep" / "home" / "pid"
    deadline = time.monotonic() + 30
    while not (pid_file.is_file() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline and worker.poll() is None, "the command never ran"
        time.sleep(0.05)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 143
    assert not _alive(int(pid_file.read_text()), within=5), "the setup command outlived it"
