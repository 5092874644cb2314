"""Linux accessibility trees through AT-SPI over D-Bus (``dbus-fast``), bounded, never hanging.

GTK, Qt and Chromium/Electron apps publish their widgets on the AT-SPI bus, a private D-Bus
bus whose address the session bus hands out (``org.a11y.Bus.GetAddress``). The reader asks the
registry for the apps, then walks their windows breadth first, one level at a time with the
calls of a level in flight together (one round trip per level rather than per node), keeping
only showing nodes whose box meets the captured area. Every call has a timeout and the walk
stops at the limits of ``WalkLimits``, so a hung or huge app costs at most the walk's time.

``dbus-fast`` is asyncio-only while cradle's loop is synchronous: the reader owns an event
loop in a private daemon thread, started by the first read and stopped by ``close()``.
The bounded bus calls are in ``cradle.elements.atspi_bus``, the walk in
``cradle.elements.atspi_walk``; this module holds the reader and its connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Coroutine
from typing import Any

from cradle.elements.atspi_bus import (
    _GONE,
    ACCESSIBLE,
    ACTION,
    CALL_SECONDS,
    CONNECT_SECONDS,
    EDITABLE_TEXT,
    _Bus,
    _CallError,
    split_ref,
)
from cradle.elements.atspi_walk import _Walk, action_names
from cradle.elements.base import Box, TreeSnapshot, WalkLimits
from cradle.errors import AccessibilityUnavailable, SkillExecutionError


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
