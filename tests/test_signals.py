"""cradle.signals in process: handlers installed and restored, 128 + signal, the grace window,
the stop hotkey waking a main thread blocked in a model request, stops outside the loop.

Every test sets the dispositions it relies on itself (SIGINT ignored, as a script that starts
the suite in the background leaves it), and only sends a signal to this process while
cradle's handler owns it.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cradle import signals
from cradle.agent import AgentSettings
from cradle.cli.app import main
from cradle.screen.mock.screen import MockScreen
from cradle.screen.stop import StopHotkey
from cradle.session import MemorySettings, ModelSettings, Session, SessionSettings
from cradle.signals import Stopped, check_stop, deferred, request_stop, stop_signals
from tests.fakes.openai_server import FakeOpenAIServer, FakeResponse, completion
from tests.reliability.helpers import API_KEY, fused


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored, as a command started in the background by a script inherits it."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _send(signum: int) -> None:
    """Deliver ``signum`` to the main thread, only while cradle's handler owns it."""
    assert signals.installed() and signal.getsignal(signum) is signals._handle
    signal.pthread_kill(threading.main_thread().ident or 0, signum)


def test_handlers_are_ours_during_a_run_and_restored_after(sigint_ignored: None) -> None:
    before_term = signal.getsignal(signal.SIGTERM)
    before_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # started under nohup
    try:
        with stop_signals():
            assert signal.getsignal(signal.SIGINT) is signals._handle
            assert signal.getsignal(signal.SIGTERM) is signals._handle
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN  # nohup is respected
            with stop_signals():  # nested: nothing changes
                assert signal.getsignal(signal.SIGINT) is signals._handle
            assert signals.installed()
        assert not signals.installed()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == before_term
    finally:
        signal.signal(signal.SIGHUP, before_hup)


@pytest.mark.parametrize(
    ("signum", "code", "name"),
    [
        (signal.SIGINT, 130, "SIGINT"),
        (signal.SIGTERM, 143, "SIGTERM"),
        (signal.SIGHUP, 129, "SIGHUP"),
    ],
)
def test_each_stop_signal_raises_stopped_with_128_plus_its_number(
    sigint_ignored: None, signum: int, code: int, name: str
) -> None:
    with pytest.raises(Stopped) as caught, stop_signals():
        _send(signum)
        time.sleep(2)
    assert isinstance(caught.value, KeyboardInterrupt)  # passes `except Exception`
    assert caught.value.exit_code == code and name in caught.value.reason


def test_a_second_signal_while_stopping_is_ignored_then_a_late_one_raises(
    sigint_ignored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signals, "GRACE_SECONDS", 0.5)
    with stop_signals():
        with pytest.raises(Stopped):
            _send(signal.SIGTERM)
            time.sleep(2)
        _send(signal.SIGTERM)  # within the grace window: the stop is underway
        time.sleep(0.1)
        with deferred():
            time.sleep(0.5)
            _send(signal.SIGINT)  # deferred: cleanup is not cut short
            time.sleep(0.1)
        with pytest.raises(Stopped):  # the first stop was swallowed somewhere: stop again
            _send(signal.SIGINT)
            time.sleep(2)


def test_a_stop_request_waits_for_check_stop_without_our_handlers(sigint_ignored: None) -> None:
    request_stop("stopped by test")  # SIGINT ignored and not ours: no signal is sent
    with pytest.raises(Stopped, match="stopped by test"):
        check_stop()
    check_stop()  # consumed


def test_off_the_main_thread_nothing_is_installed() -> None:
    seen: list[object] = []

    def body() -> None:
        with stop_signals():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGTERM)] and seen[0] is not signals._handle


def _settings(tmp_path: Path, base_url: str) -> SessionSettings:
    return SessionSettings(
        env="mock-notepad",
        task="t",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=None,
        model=ModelSettings(model="fake-vlm", base_url=base_url, timeout=60, max_retries=0),
        agent=AgentSettings(mode="fused", max_steps=5),
        memory=MemorySettings(enabled=False),
        skill_stats=False,
    )


def test_stop_hotkey_wakes_a_run_blocked_in_a_model_request(
    tmp_path: Path, sigint_ignored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    released: list[int] = []
    original = MockScreen.release_all
    monkeypatch.setattr(
        MockScreen, "release_all", lambda self: (released.append(1), original(self))[1]
    )
    replies = [fused(["move_to(x=5, y=5)"]), FakeResponse(200, completion("{}"), delay=30)]
    with FakeOpenAIServer(replies=replies) as server:
        session = Session(_settings(tmp_path, server.base_url))
        hotkey = StopHotkey()  # its default action, as the desktop environment uses it

        def press_when_blocked() -> None:
            while len(server.requests) < 2:
                time.sleep(0.02)
            time.sleep(0.3)  # the main thread is inside the HTTP request
            hotkey._fire()

        presser = threading.Thread(target=press_when_blocked, daemon=True)
        presser.start()
        started = time.monotonic()
        result = session.run()
        presser.join(timeout=5)
    assert time.monotonic() - started < 15
    assert (result.status, result.exit_code) == ("interrupted", 130)
    assert "hotkey" in result.reason and result.steps == 1
    assert released  # held keys and buttons are let go
    info = session.recorder.info if session.recorder else None
    assert info is not None and info.status == "interrupted" and info.ended_at is not None
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # the run restored it


def test_sigterm_before_the_loop_still_finishes_run_json(
    tmp_path: Path, sigint_ignored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    session = Session(_settings(tmp_path, "http://127.0.0.1:9/v1"))

    def slow_start() -> MockScreen:
        _send(signal.SIGTERM)
        time.sleep(5)
        raise AssertionError("SIGTERM did not stop the environment start")

    monkeypatch.setattr(session.environment, "start", slow_start)
    result = session.run()
    assert (result.status, result.exit_code, result.steps) == ("interrupted", 143, 0)
    assert session.recorder is not None
    info = session.recorder.info
    assert info.status == "interrupted" and info.exit_code == 143 and "SIGTERM" in info.reason
    assert '"status": "interrupted"' in (Path(result.run_dir) / "run.json").read_text()


def test_cli_stopped_outside_a_run_exits_with_128_plus_signal(
    sigint_ignored: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def listing() -> dict:
        _send(signal.SIGTERM)
        time.sleep(5)
        raise AssertionError("SIGTERM did not stop the command")

    monkeypatch.setattr("cradle.environment.discover_environments", listing)
    monkeypatch.setattr(sys, "argv", ["cradle", "envs"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 143
    assert "cradle: stopped by SIGTERM" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
