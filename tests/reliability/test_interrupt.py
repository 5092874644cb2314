"""Ctrl+C and the desktop stop hotkey: the run ends as "interrupted", exit 130, records intact.

Each child is started with SIGINT's disposition set explicitly (``inherit``), so the tests do
not depend on how pytest itself was launched: a script that starts the suite in the
background leaves SIGINT ignored, and cradle must stop on it all the same.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cradle.errors import ConfigError
from cradle.screen.stop import DEFAULT_STOP_HOTKEY, StopHotkey, validate_hotkey
from cradle.signals import Stopped, stop_signals
from environments.desktop.options import resolve_options
from tests.desktop.conftest import display  # noqa: F401 - the Xvfb fixture
from tests.desktop.helpers import read_state, tk_command, xdotool
from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse, completion
from tests.reliability.helpers import cradle_env, fused

_WITH_DISPOSITIONS = (
    "import os, signal, sys\n"
    "for name, how in zip(sys.argv[1].split(','), sys.argv[2].split(',')):\n"
    "    if name:\n"
    "        signal.signal(getattr(signal, name),"
    " signal.SIG_IGN if how == 'ignored' else signal.SIG_DFL)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'cradle', *sys.argv[3:]])\n"
)
"""Sets signal dispositions, then execs cradle: an ignored signal stays ignored across exec,
exactly as a shell leaves it for a command it starts in the background."""


def _start(
    tmp_path: Path,
    base_url: str,
    *args: str,
    env: dict[str, str] | None = None,
    inherit: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """``cradle run`` against the fake server; ``inherit`` maps signal names to
    ``ignored``/``default`` (SIGINT ignored unless said otherwise)."""
    dispositions = {"SIGINT": "ignored", **(inherit or {})}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            _WITH_DISPOSITIONS,
            ",".join(dispositions),
            ",".join(dispositions.values()),
            "run",
            "--task",
            "t",
            "--base-url",
            base_url,
            "--model",
            "fake-vlm",
            "--no-memory",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--generated-skills-dir",
            str(tmp_path / "generated"),
            *args,
        ],
        cwd=tmp_path,
        env=cradle_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _check_interrupted(
    tmp_path: Path,
    proc: subprocess.Popen[str],
    signalled: float,
    code: int = 130,
    reason: str = "interrupted",
) -> list:
    """The run ended with ``code`` well before the 20-30 s it was busy with (counted from
    ``signalled``), run.json final (interrupted, ``reason``); returns its steps."""
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err[-3000:]
    assert time.monotonic() - signalled < 15
    assert "Traceback" not in out + err, err[-3000:]
    assert "interrupted after" in err and reason in err, err[-3000:]
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted" and info["exit_code"] == code
    assert reason in info["reason"] and info["ended_at"]
    trajectory = run_dir / "trajectory.jsonl"
    if not trajectory.exists():  # interrupted before the first step was recorded
        return []
    return [json.loads(line) for line in trajectory.read_text().splitlines()]


@pytest.mark.parametrize("inherited", ["ignored", "default"])
def test_ctrl_c_while_waiting_for_the_model(tmp_path: Path, inherited: str) -> None:
    replies = [
        json.dumps(fused(["move_to(x=5, y=5)"])),
        FakeResponse(200, completion("{}"), delay=30),
    ]
    with FakeOpenAIServer(replies=replies) as server:
        proc = _start(
            tmp_path,
            server.base_url,
            "--env",
            "mock-notepad",
            "--timeout",
            "60",
            inherit={"SIGINT": inherited},
        )
        _wait_for(lambda: len(server.requests) == 2)
        time.sleep(0.3)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        steps = _check_interrupted(tmp_path, proc, started)
    assert len(steps) == 1 and steps[0]["actions"][0]["status"] == "ok"


def test_ctrl_c_during_an_action(tmp_path: Path) -> None:
    with FakeOpenAIServer(lambda body: fused(["wait(seconds=20)"])) as server:
        proc = _start(tmp_path, server.base_url, "--env", "mock-notepad")
        _wait_for(lambda: len(server.requests) == 1)
        time.sleep(1.0)  # the reply is in, wait(seconds=20) is running
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        steps = _check_interrupted(tmp_path, proc, started)
    assert steps == []  # the interrupted step is not half-recorded


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_while_waiting_for_the_model(
    tmp_path: Path, signum: int, code: int
) -> None:
    replies = [
        json.dumps(fused(["move_to(x=5, y=5)"])),
        FakeResponse(200, completion("{}"), delay=30),
    ]
    with FakeOpenAIServer(replies=replies) as server:
        proc = _start(
            tmp_path,
            server.base_url,
            "--env",
            "mock-notepad",
            "--timeout",
            "60",
            inherit={"SIGTERM": "default", "SIGHUP": "default"},
        )
        _wait_for(lambda: len(server.requests) == 2)
        time.sleep(0.3)
        started = time.monotonic()
        proc.send_signal(signum)
        steps = _check_interrupted(tmp_path, proc, started, code, signal.Signals(signum).name)
    assert len(steps) == 1 and steps[0]["actions"][0]["status"] == "ok"


def test_sigterm_during_an_action_and_a_second_one_while_stopping(tmp_path: Path) -> None:
    with FakeOpenAIServer(lambda body: fused(["wait(seconds=20)"])) as server:
        proc = _start(tmp_path, server.base_url, "--env", "mock-notepad")
        _wait_for(lambda: len(server.requests) == 1)
        time.sleep(1.0)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)  # e.g. sent to the process and again to its group
        steps = _check_interrupted(tmp_path, proc, started, 143, "SIGTERM")
    assert steps == []


def test_a_run_started_with_nohup_survives_sighup(tmp_path: Path) -> None:
    with FakeOpenAIServer(lambda body: fused(["wait(seconds=0.2)"])) as server:
        proc = _start(
            tmp_path,
            server.base_url,
            "--env",
            "mock-notepad",
            "--max-steps",
            "500",
            inherit={"SIGHUP": "ignored"},
        )
        _wait_for(lambda: len(server.requests) == 2)
        proc.send_signal(signal.SIGHUP)
        calls = len(server.requests)
        _wait_for(lambda: len(server.requests) >= calls + 2)  # still running
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _check_interrupted(tmp_path, proc, started, 143, "SIGTERM")


def test_stop_hotkey_press_stops_this_thread_with_sigint_ignored() -> None:
    """The hotkey's default action reaches a main thread that inherited SIGINT as ignored."""
    stopper = StopHotkey()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(Stopped) as caught, stop_signals():
            stopper._fire()
            time.sleep(2)
        assert caught.value.exit_code == 130 and "hotkey" in caught.value.reason
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # restored after the block
    finally:
        signal.signal(signal.SIGINT, before)


def test_stop_hotkey_fires_its_callback_and_validates() -> None:
    fired: list[int] = []
    stopper = StopHotkey("<Ctrl>+<Shift>+<F12>", on_press=lambda: fired.append(1))
    assert stopper.chord == DEFAULT_STOP_HOTKEY
    stopper._fire()
    assert fired == [1] and stopper.fired == 1 and not stopper.listening
    stopper.stop()  # never started: nothing to do
    for bad in ("", "ctrl+", "ctrl+shift", "<ctrl>++a"):
        with pytest.raises(ValueError):
            validate_hotkey(bad)
    assert validate_hotkey("<alt>+x") == "<alt>+x"


def test_desktop_stop_hotkey_option() -> None:
    assert resolve_options({}, env={}).stop_hotkey == DEFAULT_STOP_HOTKEY
    assert resolve_options({"stop_hotkey": "none"}, env={}).stop_hotkey is None
    assert resolve_options({}, env={"CRADLE_DESKTOP_STOP_HOTKEY": "off"}).stop_hotkey is None
    assert (
        resolve_options({}, env={"CRADLE_DESKTOP_STOP_HOTKEY": "<alt>+<f9>"}).stop_hotkey
        == "<alt>+<f9>"
    )
    with pytest.raises(ConfigError, match="stop hotkey"):
        resolve_options({"stop_hotkey": "ctrl+shift"}, env={})


def test_stop_hotkey_without_a_display_only_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    for name in [m for m in sys.modules if m.startswith("pynput")]:
        monkeypatch.delitem(sys.modules, name)
    stopper = StopHotkey(on_press=lambda: None)
    assert "not available" in stopper.start()
    assert not stopper.listening


def _desktop_run(
    tmp_path: Path, screen_env: dict[str, str], server: FakeOpenAIServer, title: str
) -> subprocess.Popen[str]:
    """A desktop run on the Tk form (SIGINT inherited as ignored), busy in its first action."""
    state_file = tmp_path / "tk-state.json"
    env = {
        **screen_env,
        "CRADLE_DESKTOP_LAUNCH": tk_command(state_file, title, x=500, y=300),
        "CRADLE_DESKTOP_WINDOW": title,
        "CRADLE_DESKTOP_OCR": "false",
        "CRADLE_DESKTOP_MARKS": "false",
    }
    proc = _start(tmp_path, server.base_url, "--env", "desktop", env={**os.environ, **env})
    _wait_for(lambda: len(server.requests) == 1)
    read_state(state_file, lambda s: "widgets" in s)
    time.sleep(1.0)
    return proc


def _held(screen_env: dict[str, str], keysym: str) -> bool:
    """Whether the X server has ``keysym`` pressed (whoever pressed it)."""
    from Xlib import XK
    from Xlib.display import Display

    connection = Display(screen_env["DISPLAY"])
    try:
        code = connection.keysym_to_keycode(XK.string_to_keysym(keysym))
        return bool(connection.query_keymap()[code // 8] & (1 << (code % 8)))
    finally:
        connection.close()


@pytest.mark.desktop
def test_stop_hotkey_stops_a_desktop_run(
    tmp_path: Path,
    display: dict[str, str],  # noqa: F811
) -> None:
    with FakeOpenAIServer(lambda body: fused(["wait(seconds=20)"])) as server:
        proc = _desktop_run(tmp_path, display, server, "Cradle Stop Hotkey Form")
        started = time.monotonic()
        xdotool(display, "key", "ctrl+shift+F12")
        steps = _check_interrupted(tmp_path, proc, started, 130, "hotkey")
    assert steps == []


@pytest.mark.desktop
def test_sigterm_releases_held_keys_on_the_desktop(
    tmp_path: Path,
    display: dict[str, str],  # noqa: F811
) -> None:
    with FakeOpenAIServer(lambda body: fused(["wait(seconds=20)"])) as server:
        proc = _desktop_run(tmp_path, display, server, "Cradle Sigterm Form")
        xdotool(display, "keydown", "shift")  # as if an action had been cut off mid-chord
        assert _held(display, "Shift_L")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        steps = _check_interrupted(tmp_path, proc, started, 143, "SIGTERM")
    assert steps == [] and not _held(display, "Shift_L")
