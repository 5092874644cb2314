"""The AT-SPI reader's walk and actions on a fake bus: what is kept, what is cut, what fails.

The real apps are in tests/desktop/test_accessibility.py; here each rule of the walk is pinned
on a tree built for it, offline and fast: hidden widgets and their insides dropped, a tab of
-1 size still walked, the area respected, every limit reported, an app that vanishes or hangs
costing only its own nodes, Chromium's unnamed actions named, passwords never read.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import pytest
from dbus_fast import Variant

from cradle.elements import atspi
from cradle.elements.atspi import AtspiReader
from cradle.elements.atspi_bus import (
    ACCESSIBLE,
    ACTION,
    COMPONENT,
    EDITABLE_TEXT,
    HIDDEN,
    REGISTRY,
    STATE_NAMES,
    TEXT,
    VALUE,
    _CallError,
    split_ref,
    state_names,
)
from cradle.elements.atspi_walk import _Walk
from cradle.elements.base import WalkLimits
from cradle.errors import AccessibilityUnavailable, SkillExecutionError

BITS = {name: bit for bit, name in STATE_NAMES.items()}
SHOWN = ("showing", "visible", "sensitive", "enabled")
AREA = (0, 0, 1000, 800)


def node(
    role: str,
    name: str = "",
    box: tuple[int, int, int, int] | None = (0, 0, 10, 10),
    kids: tuple[str, ...] = (),
    states: tuple[str, ...] = SHOWN,
    **more: Any,
) -> dict[str, Any]:
    """A fake accessible; ``box`` None means no Component interface."""
    return {"role": role, "name": name, "box": box, "kids": list(kids), "states": states, **more}


class FakeBus:
    """Answers AT-SPI calls from ``tree``: {(bus name, path): node}."""

    connected = True

    def disconnect(self) -> None:
        self.connected = False

    def __init__(self, tree: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.tree = tree
        self.calls: list[tuple[str, str, str]] = []

    async def call(
        self,
        dest: str,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: tuple = (),
        timeout: float = 2.0,
    ) -> list:
        self.calls.append((path, interface, member))
        if (dest, path) == REGISTRY:
            return [[(d, "/root") for d in sorted({d for d, _ in self.tree})]]
        found = self.tree.get((dest, path))
        if found is None or found.get("gone"):
            raise _CallError("UnknownObject", f"{path} does not exist")
        if found.get("hang"):
            await asyncio.sleep(timeout)
            raise _CallError("timeout")
        return self._answer(dest, found, interface, member, body)

    def _answer(
        self, dest: str, n: dict[str, Any], interface: str, member: str, body: tuple
    ) -> list:
        interfaces = [ACCESSIBLE] + ([COMPONENT] if n["box"] or n.get("extents") else [])
        interfaces += n.get("ifaces", [])
        kids = [(dest, k) for k in n["kids"]]
        bits = sum(1 << BITS[s] for s in n["states"])
        answers: dict[str, Any] = {
            "GetRoleName": [n["role"]],
            "GetInterfaces": [interfaces],
            "GetState": [[bits & 0xFFFFFFFF, bits >> 32]],
            "GetChildren": [kids],
            "GetAll": [
                {
                    "Name": Variant("s", n["name"]),
                    "ChildCount": Variant("i", n.get("count", len(kids))),
                }
            ],
        }
        if member == "GetExtents":
            if COMPONENT not in interfaces:
                raise _CallError("UnknownMethod")
            x0, y0, x1, y1 = n["box"] or (0, 0, 0, 0)
            return [n.get("extents", (x0, y0, x1 - x0, y1 - y0))]
        if member == "GetChildAtIndex":
            return [kids[body[0]]]
        if interface == ACTION:
            return self._action(n, member, body)
        if member == "Get" and body == (VALUE, "CurrentValue"):
            return [Variant("d", n["value"])]
        if member == "GetText":
            return [n["text"][body[0] : body[1]]]
        if member == "SetTextContents":
            n["text"] = body[0]
            return [True]
        if member not in answers:
            raise _CallError("UnknownMethod", member)
        return answers[member]

    @staticmethod
    def _action(n: dict[str, Any], member: str, body: tuple) -> list:
        names = n.get("actions", [])
        if member == "GetActions":
            return [[("" if n.get("unnamed") else a, "", "") for a in names]]
        if member == "GetName":
            return [names[body[0]]]
        n.setdefault("done", []).append(names[body[0]])
        return [True]


def window(*kids: str, box: tuple[int, int, int, int] = (0, 0, 400, 300)) -> dict[str, Any]:
    return node("frame", "Win", box, kids)


def walk(tree: dict, limits: WalkLimits | None = None, area: tuple = AREA) -> _Walk:
    limits = limits or WalkLimits()
    walker = _Walk(FakeBus(tree), area, limits, time.monotonic() + limits.seconds)  # type: ignore[arg-type]
    walker.nodes = asyncio.run(walker.run())  # type: ignore[attr-defined]
    return walker


def names(walker: _Walk) -> list[str]:
    return [n.name for n in walker.nodes]  # type: ignore[attr-defined]


def test_states_report_names_and_disabled() -> None:
    assert state_names([1 << 12 | 1 << 24, 0]) == {"focused", "sensitive"}
    assert state_names([1 << 25, 1 << (41 - 32)]) == {"showing", "checkable", "disabled"}


def test_hidden_widgets_and_their_insides_are_dropped_but_a_sizeless_tab_is_walked() -> None:
    tree = {
        (":1.1", "/root"): node("application", box=None, kids=("/w",)),
        (":1.1", "/w"): window("/menu", "/tab", "/off"),
        (":1.1", "/menu"): node(
            "menu", "File", (0, 0, 40, 25), ("/item",), actions=["Click"], ifaces=[ACTION]
        ),
        (":1.1", "/item"): node(
            "menu item", "Quit", None, ("/deep",), extents=(HIDDEN, HIDDEN, 1, 1)
        ),
        (":1.1", "/deep"): node("label", "inside a closed menu"),
        (":1.1", "/tab"): node("page tab", "", None, ("/editor",), extents=(-1, -1, -1, -1)),
        (":1.1", "/editor"): node("text", "Editor", (0, 30, 400, 300)),
        (":1.1", "/off"): node(
            "push button", "Unshown", states=("visible", "sensitive"), kids=("/under",)
        ),
        (":1.1", "/under"): node("label", "under an unshown button"),
    }
    walker = walk(tree)
    assert names(walker) == ["Win", "File", "Editor"]
    assert walker.truncated == ""
    menu = walker.nodes[1]  # type: ignore[attr-defined]
    assert menu.role == "menu" and menu.box == (0, 0, 40, 25) and menu.actions == ("Click",)
    assert menu.ref == ":1.1/menu" and split_ref(menu.ref) == (":1.1", "/menu")
    assert menu.depth == 1


def test_only_windows_meeting_the_area_are_walked() -> None:
    tree = {
        (":1.1", "/root"): node("application", box=None, kids=("/w",)),
        (":1.1", "/w"): window("/b"),
        (":1.1", "/b"): node("push button", "Here", (10, 10, 50, 30)),
        (":1.2", "/root"): node("application", box=None, kids=("/w",)),
        (":1.2", "/w"): window("/b", box=(2000, 0, 2400, 300)),
        (":1.2", "/b"): node("push button", "Elsewhere", (2010, 10, 2050, 30)),
    }
    walker = walk(tree)
    assert names(walker) == ["Win", "Here"]
    bus_calls = walker.bus.calls  # type: ignore[attr-defined]
    assert not [c for c in bus_calls if c[0] == "/b" and c[2] == "GetRoleName"][1:], (
        "the other app's window is not entered"
    )


def test_values_actions_and_passwords() -> None:
    tree = {
        (":1.1", "/root"): node("application", box=None, kids=("/w",)),
        (":1.1", "/w"): window("/entry", "/secret", "/slider", "/web"),
        (":1.1", "/entry"): node(
            "text",
            "Comment",
            ifaces=[TEXT, EDITABLE_TEXT],
            text="x" * 500,
            states=(*SHOWN, "editable"),
        ),
        (":1.1", "/secret"): node(
            "password text",
            "Password",
            ifaces=[TEXT, EDITABLE_TEXT],
            text="hunter2",
            states=(*SHOWN, "editable"),
        ),
        (":1.1", "/slider"): node("slider", "Volume", ifaces=[VALUE], value=50.0),
        (":1.1", "/web"): node(
            "push button", "Send", ifaces=[ACTION], actions=["press"], unnamed=True
        ),
    }
    found = {n.name: n for n in walk(tree, WalkLimits(max_text=20)).nodes}  # type: ignore[attr-defined]
    assert len(found["Comment"].value) == 20 and found["Comment"].value.endswith("…")
    assert found["Password"].value == ""
    assert found["Volume"].value == "50"
    assert found["Send"].actions == ("press",), "Chromium names its actions only by GetName"


def test_a_vanished_app_and_a_hung_one_cost_only_their_own_nodes() -> None:
    tree = {
        (":1.1", "/root"): node("application", box=None, kids=("/w",)),
        (":1.1", "/w"): window("/b", "/gone"),
        (":1.1", "/b"): node("push button", "Alive"),
        (":1.1", "/gone"): node("push button", "Gone", gone=True),
        (":1.2", "/root"): node("application", box=None, kids=("/w",)),
        (":1.2", "/w"): node("frame", "Hung", hang=True),
    }
    started = time.monotonic()
    walker = walk(tree, WalkLimits(seconds=0.3))
    assert names(walker) == ["Win", "Alive"]
    assert walker.truncated == "time" and time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("limits", "why", "most"),
    [
        (WalkLimits(max_nodes=4), "nodes", 4),
        (WalkLimits(max_depth=1), "depth", 4),
        (WalkLimits(max_children=2), "children", 5),
    ],
)
def test_limits_cut_the_walk_and_say_which(limits: WalkLimits, why: str, most: int) -> None:
    tree = {
        (":1.1", "/root"): node("application", box=None, kids=("/w",)),
        (":1.1", "/w"): window("/l"),
        (":1.1", "/l"): node("list", "List", (0, 0, 400, 300), ("/0", "/1", "/2"), count=3),
        **{(":1.1", f"/{i}"): node("list item", f"row {i}", kids=("/x",)) for i in range(3)},
        (":1.1", "/x"): node("label", "deep"),
    }
    assert names(walk(tree)) == ["Win", "List", "row 0", "row 1", "row 2", "deep"], (
        "a node listed under three parents is read once"
    )
    walker = walk(tree, limits)
    assert walker.truncated == why and len(walker.nodes) <= most, names(walker)  # type: ignore[attr-defined]


@pytest.fixture
def fake_reader(monkeypatch: pytest.MonkeyPatch) -> Any:
    tree = {
        (":1.1", "/root"): node("application", box=None, kids=("/w",)),
        (":1.1", "/w"): window("/b", "/e"),
        (":1.1", "/b"): node("push button", "Zoom in", ifaces=[ACTION], actions=["Click"]),
        (":1.1", "/e"): node("text", "Comment", ifaces=[TEXT, EDITABLE_TEXT], text=""),
    }
    bus = FakeBus(tree)

    async def connect() -> FakeBus:
        return bus

    monkeypatch.setattr(atspi, "connect_atspi", connect)
    reader = AtspiReader(call_seconds=0.5)
    yield reader, tree
    reader.close()


def test_reader_acts_through_the_tree_from_a_plain_thread(fake_reader: Any) -> None:
    reader, tree = fake_reader
    snapshot = reader.read(AREA, WalkLimits())
    assert [n.name for n in snapshot.nodes] == ["Win", "Zoom in", "Comment"]
    assert reader.do_action(":1.1/b", "click") == ""
    assert tree[(":1.1", "/b")]["done"] == ["Click"]
    with pytest.raises(SkillExecutionError, match=r"offers the actions \['Click'\]"):
        reader.do_action(":1.1/b", "toggle")
    assert reader.set_text(":1.1/e", "hello") == ""
    assert tree[(":1.1", "/e")]["text"] == "hello"
    with pytest.raises(SkillExecutionError, match="click it and type instead"):
        reader.set_text(":1.1/b", "x")
    with pytest.raises(SkillExecutionError, match="element is gone"):
        reader.do_action(":1.1/nothing", "click")
    with pytest.raises(SkillExecutionError, match="not an AT-SPI element reference"):
        reader.do_action("rm -rf /", "click")
    reader.close()
    assert reader.read(AREA, WalkLimits()).nodes, "a closed reader starts again on demand"


def test_no_session_bus_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/none")
    reader = AtspiReader()
    try:
        with pytest.raises(AccessibilityUnavailable, match="dbus-run-session"):
            reader.read(AREA, WalkLimits())
    finally:
        reader.close()


def test_nothing_runs_before_the_first_read() -> None:
    reader = AtspiReader()
    assert reader._thread is None
    reader.close()


def test_without_dbus_fast_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dbus_fast.aio", None)
    reader = AtspiReader()
    try:
        with pytest.raises(AccessibilityUnavailable, match="pip install dbus-fast"):
            reader.read(AREA, WalkLimits())
    finally:
        reader.close()
