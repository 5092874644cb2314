"""One bounded breadth-first walk of the AT-SPI tree (see ``cradle.elements.atspi``).

Apps are walked side by side, each level by level with the calls of a level in flight
together; a node that does not answer is dropped, an app that lets a call time out is asked
nothing more, and the walk stops at the limits of ``WalkLimits``, saying which one cut it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cradle.elements.atspi_bus import (
    ACCESSIBLE,
    ACTION,
    CALL_SECONDS,
    COMPONENT,
    EDITABLE_TEXT,
    MAX_ACTIONS,
    PROPERTIES,
    REGISTRY,
    TEXT,
    VALUE,
    _Bus,
    _CallError,
    _hidden,
    extents_box,
    format_number,
    intersects,
    state_names,
)
from cradle.elements.base import AccessibleNode, Box, WalkLimits, clip_text
from cradle.errors import AccessibilityUnavailable


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
