"""Ctrl+C and the desktop stop hotkey: the run ends as "interrupted", exit 130, records intact."""

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
from cradle.screen.stop import DEFAULT_STOP_HOTKEY, StopHotkey, interrupt_main, validate_hotkey
from environments.desktop.options import resolve_options
from tests.desktop.conftest import display  # noqa: F401 - the Xvfb fixture
from tests.desktop.helpers import read_state, tk_command, xdotool
from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse, completion
from tests.reliability.helpers import cradle_env, fused


def _start(tmp_path: Path, base_url: str, *args: str, env: dict[str, str] | None = None
           ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cradle", "run", "--task", "t", "--base-url", base_url,
         "--model", "fake-vlm", "--no-memory", "--runs-dir", str(tmp_path / "runs"),
         "--generated-skills-dir", str(tmp_path / "generated"), *args],
        cwd=tmp_path, env=cradle_env(env), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _check_interrupted(tmp_path: Path, proc: subprocess.Popen[str], started: float) -> list:
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err[-3000:]
    assert time.monotonic() - started < 25
    assert "Traceback" not in out + err, err[-3000:]
    assert "interrupted" in err
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted" and info["exit_code"] == 130
    assert info["ended_at"]
    trajectory = run_dir / "trajectory.jsonl"
    if not trajectory.exists():  # interrupted before the first step was recorded
        return []
    return [json.loads(line) for line in trajectory.read_text().splitlines()]


def test_ctrl_c_while_waiting_for_the_model(tmp_path: Path) -> None:
    replies = [json.dumps(fused(["move_to(x=5, y=5)"])), FakeResponse(200, completion("{}"),
                                                                    delay=30)]
    with FakeOpenAIServer(replies=replies) as server:
        proc = _start(tmp_path, server.base_url, "--env", "mock-notepad", "--timeout", "60")
        started = time.monotonic()
        _wait_for(lambda: len(server.requests) == 2)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        steps = _check_interrupted(tmp_path, proc, started)
    assert len(steps) == 1 and steps[0]["actions"][0]["status"] == "ok"


def test_ctrl_c_during_an_action(tmp_path: Path) -> None:
    with FakeOpenAIServer(lambda body: fused(["wait(seconds=20)"])) as server:
        proc = _start(tmp_path, server.base_url, "--env", "mock-notepad")
        started = time.monotonic()
        _wait_for(lambda: len(server.requests) == 1)
        time.sleep(1.0)  # the reply is in, wait(seconds=20) is running
        proc.send_signal(signal.SIGINT)
        steps = _check_interrupted(tmp_path, proc, started)
    assert steps == []  # the interrupted step is not half-recorded


def test_interrupt_main_raises_keyboard_interrupt_here() -> None:
    with pytest.raises(KeyboardInterrupt):
        interrupt_main()
        time.sleep(2)


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
    assert resolve_options({}, env={"CRADLE_DESKTOP_STOP_HOTKEY": "<alt>+<f9>"}
                           ).stop_hotkey == "<alt>+<f9>"
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


@pytest.mark.desktop
def test_stop_hotkey_stops_a_desktop_run(tmp_path: Path, display: dict[str, str]  # noqa: F811
                                         ) -> None:
    state_file = tmp_path / "tk-state.json"
    title = "Cradle Stop Hotkey Form"
    env = {**display, "CRADLE_DESKTOP_LAUNCH": tk_command(state_file, title, x=500, y=300),
           "CRADLE_DESKTOP_WINDOW": title, "CRADLE_DESKTOP_OCR": "false",
           "CRADLE_DESKTOP_MARKS": "false"}
    with FakeOpenAIServer(lambda body: fused(["wait(seconds=20)"])) as server:
        proc = _start(tmp_path, server.base_url, "--env", "desktop", env={**os.environ, **env})
        started = time.monotonic()
        _wait_for(lambda: len(server.requests) == 1)
        read_state(state_file, lambda s: "widgets" in s)
        time.sleep(1.0)
        xdotool(display, "key", "ctrl+shift+F12")
        steps = _check_interrupted(tmp_path, proc, started)
    assert steps == []
