"""One bounded walk for the accessibility trees that answer one node at a time (UIA, AX).

pywinauto (Windows UI Automation) and pyobjc (macOS AX) both read a tree node by node through
the platform's API. Their readers share this walk: a ``TreeSource`` lists the top-level
windows, gives one node's properties as a plain dict (keys as the library names them) and a
node's first children; a converter turns such a dict into an ``AccessibleNode``. The live
sources call the libraries; tests build sources from recorded trees, so everything but the
library calls themselves runs on any machine.

The walk is breadth first (windows, then their toolbars and menus, before the rows of a long
list), keeps only nodes whose box meets the captured area, and stops at ``WalkLimits``,
saying which limit cut it.
"""

from __future__ import annotations

import importlib
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any, Generic, Protocol, TypeVar

from cradle.elements.base import AccessibleNode, Box, TreeSnapshot, WalkLimits
from cradle.errors import AccessibilityUnavailable, SkillExecutionError

H = TypeVar("H")
MAX_SET_TEXT = 20_000
"""Longest text a skill may put into a field through the tree (characters)."""


class TreeSource(Protocol[H]):
    """A platform's tree as the walk sees it; ``H`` is the library's handle for a node."""

    def roots(self, area: Box, limit: int) -> list[H]:
        """Top-level windows (front first) that may meet ``area``; at most ``limit``.

        Raises ``AccessibilityUnavailable`` when the tree cannot be reached at all."""
        ...

    def properties(self, handle: H) -> Mapping[str, Any] | None:
        """The node's recorded properties, or None when it vanished while being read."""
        ...

    def children(self, handle: H, limit: int) -> list[H]:
        """The node's first ``limit`` children (never all of a 100,000-row list)."""
        ...


Convert = Callable[[Mapping[str, Any], WalkLimits], AccessibleNode | None]
"""Properties -> node; None for a hidden node (its subtree is skipped). A node without a box
is not kept but its children are walked (they may have boxes of their own)."""


@dataclass
class Walked(Generic[H]):
    """A walk's snapshot and the live handles of the nodes it kept, by ref."""

    snapshot: TreeSnapshot
    handles: dict[str, H] = field(default_factory=dict)


def intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def is_empty(box: Box) -> bool:
    return box[2] <= box[0] or box[3] <= box[1]


class _Cuts:
    """Which limits cut the walk, in the order they were hit."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def add(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)

    def __str__(self) -> str:
        return ", ".join(self.names)


def walk_tree(
    source: TreeSource[H],
    convert: Convert,
    area: Box,
    limits: WalkLimits,
    *,
    prefix: str,
    clock: Callable[[], float] = time.monotonic,
) -> Walked[H]:
    """Visible nodes meeting ``area``, breadth first within ``limits``.

    A node whose converter gave no ref gets ``prefix`` + its path of child indexes (``0.3.2``),
    which is why readers put a per-walk number into ``prefix``: a path names another node
    once the tree has changed.
    """
    started = clock()
    deadline = started + limits.seconds
    cuts = _Cuts()
    roots = source.roots(area, limits.max_children + 1)
    if len(roots) > limits.max_children:
        cuts.add("children")
    queue: deque[tuple[H, int, str]] = deque(
        (handle, 0, str(i)) for i, handle in enumerate(roots[: limits.max_children])
    )
    nodes: list[AccessibleNode] = []
    handles: dict[str, H] = {}
    read = 0
    while queue:
        if clock() >= deadline:
            cuts.add("time")
            break
        if read >= limits.max_nodes:
            cuts.add("nodes")
            break
        handle, depth, path = queue.popleft()
        read += 1
        props = source.properties(handle)
        node = convert(props, limits) if props is not None else None
        if node is None:
            continue
        box = node.box
        if box is not None and not is_empty(box):
            if not intersects(box, area):
                continue
            ref = node.ref if node.ref and node.ref not in handles else prefix + path
            nodes.append(replace(node, ref=ref, depth=depth))
            handles[ref] = handle
        if depth >= limits.max_depth:
            if source.children(handle, 1):
                cuts.add("depth")
            continue
        kids = source.children(handle, limits.max_children + 1)
        if len(kids) > limits.max_children:
            cuts.add("children")
        queue.extend(
            (kid, depth + 1, f"{path}.{i}") for i, kid in enumerate(kids[: limits.max_children])
        )
    return Walked(
        TreeSnapshot(nodes=nodes, truncated=str(cuts), seconds=round(clock() - started, 4)), handles
    )


class Handles(Generic[H]):
    """The live nodes behind the refs of the latest walk: actions find their node by ref."""

    def __init__(self) -> None:
        self.generation = 0
        self._by_ref: dict[str, H] = {}

    def next_prefix(self, platform: str) -> str:
        """The path-ref prefix for a new walk (``ax:7:``): refs of older walks stop matching."""
        self.generation += 1
        return f"{platform}:{self.generation}:"

    def replace(self, handles: dict[str, H]) -> None:
        self._by_ref = dict(handles)

    def get(self, ref: str) -> H:
        try:
            return self._by_ref[ref]
        except KeyError:
            raise SkillExecutionError(
                "that element is not in the accessibility tree as last read (the screen "
                "changed since); look at the screen again and use the new element list"
            ) from None


def load_library(module: str, what: str, extra: str) -> ModuleType:
    """Import a reader's library on first use; missing -> a one-line install hint."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise AccessibilityUnavailable(
            f"{what} needs the {module.split('.')[0]} package ({exc.name or module} could not "
            f"be imported); install it with: pip install 'cradle[{extra}]'"
        ) from None


def checked_text(text: str) -> str:
    """``text`` for a field, refused when longer than ``MAX_SET_TEXT``."""
    if len(text) > MAX_SET_TEXT:
        raise SkillExecutionError(
            f"the text has {len(text)} characters; at most {MAX_SET_TEXT} can be set at once"
        )
    return text


def refused(what: str, exc: BaseException) -> SkillExecutionError:
    """A library's failure during an action as a one-line error for the model."""
    detail = " ".join(str(exc).split())[:160]
    return SkillExecutionError(
        f"the app refused {what} ({type(exc).__name__}{': ' + detail if detail else ''}); "
        "click or type instead"
    )
