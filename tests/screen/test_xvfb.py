"""Virtual displays: a slot never ends up on a display another server owns."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from cradle.processes import stop_process
from cradle.screen import xvfb
from cradle.screen.xvfb import display_answers, virtual_display

pytestmark = pytest.mark.desktop


def test_losing_the_race_for_a_number_moves_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The number looked free, but another server took it first and answers on it: ours must
    not take the winner's display for its own (the winner may close it under us)."""
    number = xvfb.free_display(range(430, 460))
    winner = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "320x240x24", "-nolisten", "tcp", "-noreset"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        env = {"XAUTHORITY": str(tmp_path / "auth")}
        (tmp_path / "auth").touch()
        for _ in range(100):
            if display_answers(f":{number}", env):
                break
            threading.Event().wait(0.1)
        calls: list[range] = []
        really_free = xvfb.free_display

        def looked_free(numbers: range) -> int:
            calls.append(numbers)
            return number if len(calls) == 1 else really_free(numbers)

        monkeypatch.setattr(xvfb, "free_display", looked_free)
        # Ours, on the taken number, is slow to notice and exit (a loaded machine): it is
        # still running when the winner answers on the display.
        slow = tmp_path / "Xvfb"
        slow.write_text(
            f'#!/bin/sh\nif [ "$1" = ":{number}" ]; then sleep 3; '
            'echo "Server is already active for display" >&2; exit 1; fi\n'
            f'exec {shutil.which("Xvfb")} "$@"\n'
        )
        slow.chmod(0o755)
        proc, name = xvfb._start_xvfb(
            str(slow), (320, 240), range(number, number + 30), env, tmp_path / "xvfb.log"
        )
        try:
            assert name != f":{number}"
            assert Path(f"/tmp/.X{name[1:]}-lock").read_text().strip() == str(proc.pid)
        finally:
            stop_process(proc, timeout=5)
    finally:
        stop_process(winner, timeout=5)


def test_slots_started_together_get_displays_of_their_own() -> None:
    names: list[str] = []
    errors: list[BaseException] = []
    ready, release = threading.Barrier(5), threading.Event()

    def slot() -> None:
        try:
            with virtual_display((320, 240), numbers=range(460, 480), reuse=False) as env:
                names.append(env["DISPLAY"])
                ready.wait(timeout=60)
                release.wait(timeout=60)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            ready.abort()

    threads = [threading.Thread(target=slot) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait(timeout=60)
        assert not errors, errors
        assert len(set(names)) == 4, names
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
