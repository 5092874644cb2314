"""The accessibility reader for the machine cradle runs on, and what apps need to expose one.

Linux reads AT-SPI over D-Bus (``dbus-fast``), Windows UI Automation (``pywinauto``), macOS
the AX API (``pyobjc``); each library is imported when the first tree is read, so choosing a
reader costs nothing and a missing library only turns the tree off, with a note.
"""

from __future__ import annotations

import sys

from cradle.elements.base import TreeReader

APP_ACCESSIBILITY_ENV = {
    "ACCESSIBILITY_ENABLED": "1",
    "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
    "QT_ACCESSIBILITY": "1",
}
"""Variables under which apps expose their tree: Chromium/Electron read
``ACCESSIBILITY_ENABLED`` (Chromium also wants ``--force-renderer-accessibility`` for page
content), Qt 5/6 the two ``QT_`` ones; GTK exposes its tree whenever the AT-SPI bus runs."""


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
