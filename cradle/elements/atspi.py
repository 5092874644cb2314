"""Linux accessibility trees through AT-SPI over D-Bus (``dbus-fast``), bounded, never hanging.

GTK, Qt and Chromium/Electron apps publish their widgets on the AT-SPI bus, a private D-Bus
bus whose address the session bus hands out (``org.a11y.Bus.GetAddress``). The reader asks the
registry for the apps, then walks their windows breadth first, one level at a time with the
calls of a level in flight together (one round trip per level rather than per node), keeping
only showing nodes whose box meets the captured area. Every call has a timeout and the walk
stops at the limits of ``WalkLimits``, so a hung or huge app costs at most the walk's time.

``dbus-fast`` is asyncio-only while cradle's loop is synchronous: the reader owns an event
loop in a private daemon thread, started by the first read and stopped by ``close()``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from cradle.elements.base import AccessibleNode, Box, TreeSnapshot, WalkLimits, clip_text
from cradle.errors import AccessibilityUnavailable, SkillExecutionError

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


@dataclass
class _Walk:
    """One bounded breadth-first walk; nodes that fail to answer are dropped, not fatal."""

    bus: _Bus
    area: Box
    limits: WalkLimits
    deadline: float
    truncated: str = ""
    seen: int = 0
    """Nodes visited so far, over all apps (the ``max_nodes`` budget)."""
    visited: set[tuple[str, str]] = field(default_factory=set)
    """Nodes already read: a buggy app listing a node twice (or in a cycle) costs nothing."""
    hung: set[str] = field(default_factory=set)
    """Apps (bus names) that let a call time out: asked nothing more in this walk."""

    def _stop(self, why: str) -> None:
        """Record the limit that cut the walk: the first one, unless time ran out after it."""
        if why == "time" or not self.truncated:
            self.truncated = why

    def _left(self) -> float:
        return min(CALL_SECONDS, self.deadline - time.monotonic())

    async def _try(self, dest: str, *args: Any) -> list | None:
        if dest in self.hung:
            return None
        try:
            return await self.bus.call(dest, *args, timeout=self._left())
        except _CallError as exc:
            if exc.name == "timeout":
                self.hung.add(dest)
                if self._left() <= 0:
                    self._stop("time")
            return None

    async def children(self, dest: str, path: str, count: int | None) -> list[tuple[str, str]]:
        """The node's children, at most ``max_children`` (by index when it has more)."""
        most = self.limits.max_children
        if count is not None and count > most:
            self._stop("children")
            replies = await asyncio.gather(
                *(
                    self._try(dest, path, ACCESSIBLE, "GetChildAtIndex", "i", (i,))
                    for i in range(most)
                )
            )
            return [(str(r[0][0]), str(r[0][1])) for r in replies if r]
        reply = await self._try(dest, path, ACCESSIBLE, "GetChildren")
        found = [(str(c[0]), str(c[1])) for c in (reply[0] if reply else [])]
        if len(found) > most:
            self._stop("children")
        return found[:most]

    async def visit(
        self,
        dest: str,
        path: str,
        depth: int,
    ) -> tuple[AccessibleNode | None, list[tuple[str, str]]]:
        """The node at ``path`` (None when hidden or off the area) and its children to walk."""
        role, props, state, ifaces, extents = await asyncio.gather(
            self._try(dest, path, ACCESSIBLE, "GetRoleName"),
            self._try(dest, path, PROPERTIES, "GetAll", "s", (ACCESSIBLE,)),
            self._try(dest, path, ACCESSIBLE, "GetState"),
            self._try(dest, path, ACCESSIBLE, "GetInterfaces"),
            self._try(dest, path, COMPONENT, "GetExtents", "u", (0,)),
        )
        if role is None or props is None or state is None or ifaces is None:
            return None, []
        states = state_names(state[0])
        if not {"showing", "visible"} <= states:
            return None, []
        interfaces = set(ifaces[0])
        box = extents_box(extents[0]) if extents else None
        if box is None and COMPONENT in interfaces and _hidden(extents):
            return None, []  # an unopened menu, a hidden scroll bar, and all inside them
        if box is not None and not intersects(box, self.area):
            return None, []
        fields = props[0]
        count = fields["ChildCount"].value if "ChildCount" in fields else None
        name = fields["Name"].value if "Name" in fields else ""
        walk_on = depth < self.limits.max_depth
        if not walk_on and count:
            self._stop("depth")
        actions, value, kids = await asyncio.gather(
            self._actions(dest, path, interfaces),
            self._value(dest, path, role[0], interfaces, states),
            self.children(dest, path, count) if walk_on and count != 0 else _nothing(),
        )
        if box is None:
            return None, kids
        node = AccessibleNode(
            role=str(role[0]).lower(),
            name=clip_text(str(name), self.limits.max_text),
            value=value,
            states=states,
            box=box,
            actions=actions,
            ref=dest + path,
            depth=depth,
        )
        return node, kids

    async def _actions(self, dest: str, path: str, interfaces: set[str]) -> tuple[str, ...]:
        if ACTION not in interfaces:
            return ()
        names = await action_names(lambda *call: self._try(dest, path, ACTION, *call))
        return tuple(name for name in names if name)

    async def _value(
        self, dest: str, path: str, role: str, interfaces: set[str], states: frozenset[str]
    ) -> str:
        """A slider's number or an editable field's text (never a password field's)."""
        if "password" in role:
            return ""
        if VALUE in interfaces:
            reply = await self._try(dest, path, PROPERTIES, "Get", "ss", (VALUE, "CurrentValue"))
            return format_number(reply[0].value) if reply else ""
        if TEXT in interfaces and (EDITABLE_TEXT in interfaces or "editable" in states):
            end = self.limits.max_text + 1
            reply = await self._try(dest, path, TEXT, "GetText", "ii", (0, end))
            return clip_text(str(reply[0]), self.limits.max_text) if reply else ""
        return ""

    async def run(self) -> list[AccessibleNode]:
        apps = await self._try(*REGISTRY, ACCESSIBLE, "GetChildren")
        if apps is None:
            raise AccessibilityUnavailable(
                "the AT-SPI registry does not answer; install at-spi2-core and run cradle "
                "inside a D-Bus session (dbus-run-session)"
            )
        found = await asyncio.gather(
            *(self._app(str(a[0]), str(a[1])) for a in apps[0][: self.limits.max_children])
        )
        if time.monotonic() > self.deadline:
            self._stop("time")
        return [node for nodes in found for node in nodes]

    async def _app(self, dest: str, path: str) -> list[AccessibleNode]:
        """One app's windows, level by level; apps are walked side by side, so a hung app
        holds up only its own nodes."""
        level = await self.children(dest, path, None)
        nodes: list[AccessibleNode] = []
        for depth in range(self.limits.max_depth + 1):
            level = [kid for kid in dict.fromkeys(level) if kid not in self.visited]
            if not level or self.truncated == "time":
                break
            room = self.limits.max_nodes - self.seen
            if len(level) > room:
                self._stop("nodes")
                level = level[: max(0, room)]
            self.seen += len(level)
            self.visited.update(level)
            results = await asyncio.gather(*(self.visit(d, p, depth) for d, p in level))
            nodes.extend(node for node, _ in results if node is not None)
            level = [kid for _, kids in results for kid in kids]
        return nodes


async def action_names(fetch: Callable[..., Awaitable[list | None]]) -> list[str]:
    """A node's action names by index ('' where it gives none), at most ``MAX_ACTIONS``.

    ``fetch(member, signature, body)`` calls the node's Action interface. Chromium answers
    ``GetActions`` with empty names but ``GetName(i)`` with the real ones."""
    reply = await fetch("GetActions", "", ())
    names = [str(a[0]) if a else "" for a in (reply[0] if reply else [])][:MAX_ACTIONS]
    missing = [i for i, name in enumerate(names) if not name]
    found = await asyncio.gather(*(fetch("GetName", "i", (i,)) for i in missing))
    for i, got in zip(missing, found, strict=True):
        names[i] = str(got[0]) if got else ""
    return names


async def _nothing() -> list:
    return []


class AtspiReader:
    """``TreeReader`` for AT-SPI; see the module docstring. Nothing runs until the first read."""

    def __init__(self, call_seconds: float = CALL_SECONDS) -> None:
        self.call_seconds = call_seconds
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._bus: _Bus | None = None
        self._connecting: asyncio.Lock | None = None

    def read(self, area: Box, limits: WalkLimits) -> TreeSnapshot:
        started = time.monotonic()
        deadline = started + limits.seconds

        async def walk() -> TreeSnapshot:
            walker = _Walk(await self._connected(), area, limits, deadline)
            nodes = await walker.run()
            return TreeSnapshot(
                nodes=nodes,
                truncated=walker.truncated,
                seconds=round(time.monotonic() - started, 4),
            )

        try:
            return self._run(walk(), limits.seconds + CONNECT_SECONDS + 1)
        except concurrent.futures.TimeoutError:
            return TreeSnapshot(truncated="time", seconds=round(time.monotonic() - started, 4))

    def do_action(self, ref: str, action: str) -> str:
        dest, path = split_ref(ref)

        async def act() -> str:
            bus = await self._connected()
            offered = await action_names(lambda *call: self._act(bus, dest, path, ACTION, *call))
            wanted = [i for i, name in enumerate(offered) if name.casefold() == action.casefold()]
            if not wanted:
                raise SkillExecutionError(
                    f"the element offers the actions {[n for n in offered if n]}, not {action!r}; "
                    "click it instead"
                )
            done = await self._act(bus, dest, path, ACTION, "DoAction", "i", (wanted[0],))
            return "" if done and done[0] else "the app reported that the action failed"

        return self._run(act(), 2 * self.call_seconds + CONNECT_SECONDS + 1)

    def set_text(self, ref: str, text: str) -> str:
        dest, path = split_ref(ref)

        async def put() -> str:
            bus = await self._connected()
            interfaces = (await self._act(bus, dest, path, ACCESSIBLE, "GetInterfaces"))[0]
            if EDITABLE_TEXT not in interfaces:
                raise SkillExecutionError(
                    "this element's text cannot be set through the accessibility tree; click it "
                    "and type instead"
                )
            done = await self._act(bus, dest, path, EDITABLE_TEXT, "SetTextContents", "s", (text,))
            return "" if done and done[0] else "the app refused the new text"

        return self._run(put(), 2 * self.call_seconds + CONNECT_SECONDS + 1)

    def close(self) -> None:
        with self._lock:
            loop, thread, bus = self._loop, self._thread, self._bus
            self._loop = self._thread = self._bus = self._connecting = None
        if loop is None or thread is None:
            return
        if bus is not None:
            loop.call_soon_threadsafe(bus.disconnect)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=2)
        if not thread.is_alive():
            loop.close()

    async def _act(
        self,
        bus: _Bus,
        dest: str,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: tuple = (),
    ) -> list:
        """One call for an action; a gone element or a silent app becomes a one-line error."""
        try:
            return await bus.call(
                dest, path, interface, member, signature, body, timeout=self.call_seconds
            )
        except _CallError as exc:
            if exc.name == "timeout":
                raise SkillExecutionError(
                    f"the app did not answer {member} within {self.call_seconds:g} s; it may "
                    "be busy: look at the screen before trying again"
                ) from None
            if exc.name in _GONE:
                raise SkillExecutionError(
                    "the element is gone (its window closed or the app rebuilt it); look at "
                    "the screen again"
                ) from None
            raise SkillExecutionError(f"the app refused {member}: {exc}"[:300]) from None

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        """Run ``coro`` on the reader's loop thread (started on first use) and wait for it."""
        loop = self._start()
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="cradle-atspi", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _connected(self) -> _Bus:
        """The AT-SPI bus connection, made (again) when there is none or it dropped."""
        if self._connecting is None:  # made on the loop's thread, the only one that uses it
            self._connecting = asyncio.Lock()
        async with self._connecting:  # two reads at once share one connection
            if self._bus is None or not self._bus.connected:
                self._bus = await connect_atspi()
            return self._bus


async def connect_atspi() -> _Bus:
    """A connection to the AT-SPI bus found through the session bus, or a one-line reason."""
    try:
        from dbus_fast.aio import MessageBus
    except ImportError:
        raise AccessibilityUnavailable(
            "dbus-fast is not installed; pip install dbus-fast"
        ) from None
    try:
        session = await asyncio.wait_for(MessageBus().connect(), CONNECT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - unset/unreachable address, auth refused, timeout
        raise AccessibilityUnavailable(
            f"no D-Bus session bus ({type(exc).__name__}: {str(exc)[:120]}); run cradle inside "
            "a D-Bus session, e.g. dbus-run-session -- cradle ..."
        ) from None
    try:
        body = await _Bus(session).call(
            "org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus", "GetAddress", timeout=CONNECT_SECONDS
        )
        address = str(body[0])
    except _CallError as exc:
        raise AccessibilityUnavailable(
            f"the session bus has no AT-SPI bus ({exc}); install at-spi2-core"
        ) from None
    finally:
        session.disconnect()
    try:
        bus = await asyncio.wait_for(MessageBus(bus_address=address).connect(), CONNECT_SECONDS)
    except Exception as exc:  # noqa: BLE001
        raise AccessibilityUnavailable(
            f"cannot connect to the AT-SPI bus at {address[:120]} ({type(exc).__name__}); "
            "restart the D-Bus session"
        ) from None
    return _Bus(bus)
