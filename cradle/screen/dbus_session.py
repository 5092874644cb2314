"""A private D-Bus session (and the AT-SPI bus it starts) for one display: tests, benchmarks.

Apps publish their accessibility tree on an AT-SPI bus that the session bus starts on demand
(``at-spi-bus-launcher``, then ``at-spi2-registryd``). Sharing the user's session would mix
their apps' trees into ours, and those helpers outlive the session bus, so this starts
``dbus-daemon --session`` in a process group of its own with a private ``XDG_RUNTIME_DIR``
(where the AT-SPI bus puts its socket) and ends the whole group afterwards.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cradle.errors import EnvironmentFailure

START_SECONDS = 10.0


@contextmanager
def private_session(display_env: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """``DBUS_SESSION_BUS_ADDRESS`` and ``XDG_RUNTIME_DIR`` of a new session bus.

    ``display_env`` (``DISPLAY``, ``XAUTHORITY``) is given to the bus, so the services it
    starts see the same display as the apps.
    """
    binary = shutil.which("dbus-daemon")
    if not binary:
        raise EnvironmentFailure("dbus-daemon is not installed: apt-get install dbus-daemon")
    with tempfile.TemporaryDirectory(prefix="cradle-dbus-") as runtime:
        os.chmod(runtime, 0o700)
        env = {**os.environ, **(display_env or {}), "XDG_RUNTIME_DIR": runtime}
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        bus = subprocess.Popen(
            [binary, "--session", "--nofork", "--print-address=1", f"--address=unix:dir={runtime}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        try:
            address = _read_address(bus)
            yield {"DBUS_SESSION_BUS_ADDRESS": address, "XDG_RUNTIME_DIR": runtime}
        finally:
            _end_group(bus)


def _read_address(bus: subprocess.Popen[bytes]) -> str:
    """The first line dbus-daemon prints, within ``START_SECONDS``."""
    assert bus.stdout is not None
    ready, _, _ = select.select([bus.stdout], [], [], START_SECONDS)
    line = bus.stdout.readline(4096).decode(errors="replace").strip() if ready else ""
    if not line.startswith("unix:"):
        code = bus.poll()
        state = f"exited with code {code}" if code is not None else "printed no address"
        raise EnvironmentFailure(f"dbus-daemon --session {state} within {START_SECONDS:g} s")
    return line


def _end_group(bus: subprocess.Popen[bytes]) -> None:
    """End the bus and what it started (AT-SPI launcher, its bus, the registry): one group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(bus.pid, sig)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and _group_alive(bus.pid):
            bus.poll()
            time.sleep(0.05)
        if not _group_alive(bus.pid):
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        bus.wait(timeout=3)
    if bus.stdout is not None:
        bus.stdout.close()


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is still in the group."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
