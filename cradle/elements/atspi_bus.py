"""The AT-SPI bus as cradle talks to it: interface names, state bits, one bounded call.

Shared by the tree walk (``cradle.elements.atspi_walk``) and the reader that owns the
connection (``cradle.elements.atspi``): every call goes through ``_Bus.call``, which never waits
longer than its timeout and caps the calls in flight, in all and per app.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from cradle.elements.base import Box
from cradle.errors import SkillExecutionError

ACCESSIBLE = "org.a11y.atspi.Accessible"
COMPONENT = "org.a11y.atspi.Component"
ACTION = "org.a11y.atspi.Action"
VALUE = "org.a11y.atspi.Value"
TEXT = "org.a11y.atspi.Text"
EDITABLE_TEXT = "org.a11y.atspi.EditableText"
PROPERTIES = "org.freedesktop.DBus.Properties"
REGISTRY = ("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root")
HIDDEN = -2147483648
"""What AT-SPI reports as x and y of a widget that is not on screen (an unopened menu)."""
CALL_SECONDS = 2.0
"""Longest wait for one D-Bus reply: an app busy that long is treated as gone for this walk."""
CONNECT_SECONDS = 3.0
MAX_ACTIONS = 16
IN_FLIGHT = 64
"""Calls awaiting a reply at once: enough to hide latency, and few enough that the socket
never fills (dbus-fast drops the connection when a send would block)."""
IN_FLIGHT_PER_APP = 32
"""Of those, calls to one app: a hung app cannot hold every slot until its calls time out."""

STATE_NAMES = {
    1: "active",
    4: "checked",
    5: "collapsed",
    7: "editable",
    8: "enabled",
    9: "expandable",
    10: "expanded",
    11: "focusable",
    12: "focused",
    17: "multi line",
    20: "pressed",
    22: "selectable",
    23: "selected",
    24: "sensitive",
    25: "showing",
    30: "visible",
    32: "indeterminate",
    33: "required",
    36: "invalid entry",
    41: "checkable",
    42: "has popup",
    43: "read only",
}
"""AT-SPI state bits (AtspiStateType) worth reporting, by bit number."""

_REF = re.compile(r"^(:[0-9]+\.[0-9]+|[A-Za-z_][A-Za-z0-9_.-]*)(/[A-Za-z0-9_/]*)$")
_GONE = ("UnknownObject", "ServiceUnknown", "UnknownMethod", "NoReply", "Disconnected")


class _CallError(Exception):
    """A D-Bus call failed; ``name`` is the D-Bus error name ('timeout' when none came)."""

    def __init__(self, name: str, text: str = "") -> None:
        super().__init__(f"{name}: {text}" if text else name)
        self.name = name


def state_names(bits: list[int]) -> frozenset[str]:
    """The reported names for AT-SPI's two 32-bit state words; 'disabled' when insensitive."""
    value = (bits[0] if bits else 0) | ((bits[1] if len(bits) > 1 else 0) << 32)
    names = {name for bit, name in STATE_NAMES.items() if value >> bit & 1}
    if not names & {"sensitive", "enabled"}:
        names.add("disabled")
    return frozenset(names)


def extents_box(extents: Any) -> Box | None:
    """(x, y, width, height) from ``GetExtents`` as a box, None for a hidden or empty one."""
    try:
        x, y, width, height = (int(v) for v in extents)
    except (TypeError, ValueError):
        return None
    if x <= HIDDEN or y <= HIDDEN or width <= 0 or height <= 0:
        return None
    return x, y, x + width, y + height


def _hidden(extents: list | None) -> bool:
    """Whether ``GetExtents`` said "not on screen" (a page tab of -1 size still holds a page)."""
    try:
        return extents is None or int(extents[0][0]) <= HIDDEN
    except (TypeError, ValueError, IndexError):
        return True


def intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def split_ref(ref: str) -> tuple[str, str]:
    """(bus name, object path) of a node reference made by ``read``."""
    match = _REF.match(ref or "")
    if match is None:
        raise SkillExecutionError(
            f"{ref[:80]!r} is not an AT-SPI element reference; look at "
            "the screen again and use an element from the new list"
        )
    return match.group(1), match.group(2)


def format_number(value: Any) -> str:
    """A Value interface's number as a person would write it (50, not 50.0)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return str(int(number)) if number.is_integer() else f"{number:.6g}"


class _Bus:
    """One connection to the AT-SPI bus; every call bounded by a timeout."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus
        self._gate = asyncio.Semaphore(IN_FLIGHT)
        self._app_gates: dict[str, asyncio.Semaphore] = {}
        from dbus_fast import Message, MessageType

        self._message = Message
        self._error = MessageType.ERROR

    @property
    def connected(self) -> bool:
        return bool(self.bus.connected)

    def disconnect(self) -> None:
        self.bus.disconnect()

    async def call(
        self,
        dest: str,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: tuple = (),
        timeout: float = CALL_SECONDS,
    ) -> list:
        """The reply's body; ``_CallError`` on an error reply or no reply within ``timeout``."""
        if timeout <= 0:
            raise _CallError("timeout")
        message = self._message(
            destination=dest,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=list(body),
        )
        try:
            reply = await asyncio.wait_for(self._send(dest, message), timeout)
        except TimeoutError:
            raise _CallError("timeout") from None
        except Exception as exc:  # noqa: BLE001 - a dropped connection, a malformed reply
            raise _CallError("Disconnected", str(exc)) from None
        if reply.message_type == self._error:
            raise _CallError(
                (reply.error_name or "Error").rsplit(".", 1)[-1],
                str(reply.body[0]) if reply.body else "",
            )
        return list(reply.body)

    async def _send(self, dest: str, message: Any) -> Any:
        if len(self._app_gates) > 256:  # bus names of apps long gone
            self._app_gates = {k: v for k, v in self._app_gates.items() if v.locked()}
        app_gate = self._app_gates.setdefault(dest, asyncio.Semaphore(IN_FLIGHT_PER_APP))
        async with app_gate, self._gate:
            return await self.bus.call(message)
