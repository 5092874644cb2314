"""`cradle record` ends cleanly on SIGTERM (and SIGINT): listeners stopped, file complete.

In process, the pynput listeners are replaced by fakes that deliver a few key events; the
signal goes to the main thread only while cradle's handler owns it. The desktop test runs the
real command under Xvfb with real listeners.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cradle import signals
from cradle.playback import demonstration
from cradle.playback.demo_merge import InputEvent, KeyEvent
from cradle.trajectory.loader import load_run
from tests.desktop.conftest import display  # noqa: F401 - the Xvfb fixture
from tests.desktop.helpers import tk_command, xdotool
from tests.trajectory.helpers import ROOT


class FakeListener:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def _record_and_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signum: int, keys: list[str]
) -> tuple[demonstration.RunResult, list[FakeListener]]:
    listeners = [FakeListener(), FakeListener()]

    def fake_listeners(
        sink: Callable[[InputEvent], None], clock: Callable[[], float]
    ) -> list[FakeListener]:
        for key in keys:  # pressed together (a chord), then released
            sink(KeyEvent(clock(), key, True))
        for key in reversed(keys):
            sink(KeyEvent(clock(), key, False))
        return listeners

    def stop_soon() -> None:
        time.sleep(0.5)
        assert signals.installed() and signal.getsignal(signum) is signals._handle
        signal.pthread_kill(threading.main_thread().ident or 0, signum)

    monkeypatch.setattr(demonstration, "start_listeners", fake_listeners)
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as when started in the background
    try:
        result = demonstration.record_demonstration(
            "mock-notepad",
            out=tmp_path / "demo",
            task="t",
            on_ready=lambda: threading.Thread(target=stop_soon, daemon=True).start(),
        )
    finally:
        signal.signal(signal.SIGINT, before)
    return result, listeners


def test_sigterm_ends_a_recording_with_every_action_and_the_final_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, listeners = _record_and_signal(tmp_path, monkeypatch, signal.SIGTERM, ["ctrl", "c"])
    assert (result.status, result.exit_code) == ("done", 0)
    assert "SIGTERM" in result.reason and all(listener.stopped for listener in listeners)
    run = load_run(tmp_path / "demo")
    assert run.info.status == "done" and run.info.ended_at is not None
    assert "SIGTERM" in run.info.reason
    # the person's ctrl+c is an action here: only a Ctrl+C that stopped the recording is dropped
    assert [a.source for _, a in run.ok_actions()] == ["hotkey('ctrl', 'c')"]
    assert run.steps[-1].done and not list((tmp_path / "demo").rglob("*.tmp"))


def test_ctrl_c_in_the_terminal_drops_its_own_keystroke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _ = _record_and_signal(tmp_path, monkeypatch, signal.SIGINT, ["ctrl", "c"])
    assert (result.status, result.exit_code) == ("done", 0) and "SIGINT" in result.reason
    assert list(load_run(tmp_path / "demo").ok_actions()) == []


@pytest.mark.desktop
@pytest.mark.slow
def test_record_command_stops_on_sigterm(
    tmp_path: Path,
    display: dict[str, str],  # noqa: F811
) -> None:
    title = "Cradle Record Sigterm"
    env = {
        **os.environ,
        **display,
        "PYTHONPATH": str(ROOT),
        "CRADLE_DESKTOP_LAUNCH": tk_command(tmp_path / "state.json", title, x=600, y=300),
        "CRADLE_DESKTOP_WINDOW": title,
        "CRADLE_DESKTOP_OCR": "false",
        "CRADLE_DESKTOP_MARKS": "false",
    }
    out = tmp_path / "demo"
    process = subprocess.Popen(
        [sys.executable, "-m", "cradle", "record", "--env", "desktop", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("recording;" in line for line in lines):
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        xdotool(display, "type", "--delay", "30", "ab")
        time.sleep(0.8)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=5)
    assert process.returncode == 0, "".join(lines)
    assert "Traceback" not in "".join(lines)
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "done" and "SIGTERM" in info["reason"], info
    run = load_run(out)
    assert [a.source for _, a in run.ok_actions()] == ["type_text(text='ab')"]
    assert run.steps[-1].done
