"""The accessibility reader for the machine cradle runs on, and what apps need to expose one.

Linux reads AT-SPI over D-Bus (``dbus-fast``), Windows UI Automation (``pywinauto``), macOS
the AX API (``pyobjc``); each library is imported when the first tree is read, so choosing a
reader costs nothing and a missing library only turns the tree off, with a note.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping

from cradle.elements.base import TreeReader

APP_ACCESSIBILITY_ENV = {
    "ACCESSIBILITY_ENABLED": "1",
    "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
    "QT_ACCESSIBILITY": "1",
}
"""Variables under which apps expose their tree: Chromium/Electron read
``ACCESSIBILITY_ENABLED`` (Chromium also wants ``--force-renderer-accessibility`` for page
content), Qt 5/6 the two ``QT_`` ones; GTK exposes its tree whenever the AT-SPI bus runs."""


def app_accessibility_env(env: Mapping[str, str]) -> dict[str, str]:
    """What an app launched with ``env`` needs to expose its tree where cradle reads it.

    On Linux this starts the session's AT-SPI bus now (``org.a11y.Bus.GetAddress``) and passes
    its address on: a GTK app otherwise looks first at the X root window's ``AT_SPI_BUS``
    property, which a bus killed earlier on the same display leaves pointing at a dead socket,
    and its tree then goes nowhere. Without a session bus only the variables are given."""
    found = dict(APP_ACCESSIBILITY_ENV)
    if not sys.platform.startswith("linux") or not env.get("DBUS_SESSION_BUS_ADDRESS"):
        return found
    address = _a11y_bus_address(env)
    if address:
        found["AT_SPI_BUS_ADDRESS"] = address
    return found


def _a11y_bus_address(env: Mapping[str, str]) -> str:
    """The AT-SPI bus of ``env``'s session bus, started if needed; '' when there is none."""
    tool = shutil.which("dbus-send")
    if tool is None:
        return ""
    try:
        done = subprocess.run(
            [
                tool,
                "--session",
                "--print-reply=literal",
                "--reply-timeout=3000",
                "--dest=org.a11y.Bus",
                "/org/a11y/bus",
                "org.a11y.Bus.GetAddress",
            ],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    address = done.stdout.strip()
    return address if done.returncode == 0 and address.startswith("unix:") else ""


def default_reader() -> TreeReader | None:
    """The reader for this platform, or None where cradle has none."""
    if sys.platform.startswith("linux"):
        from cradle.elements.atspi import AtspiReader

        return AtspiReader()
    if sys.platform == "win32":
        from cradle.elements.uia import UiaReader

        return UiaReader()
    if sys.platform == "darwin":
        from cradle.elements.ax import AxReader

        return AxReader()
    return None
