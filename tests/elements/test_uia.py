"""The Windows UI Automation reader on a recorded Notepad-like tree (no Windows machine here).

Fake pywinauto element infos built from ``fixtures/uia_notepad.json`` stand in for the
library; the reader's own code (conversion, bounded walk, pattern calls) runs unchanged.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from cradle.elements.accessibility import AccessibilityProvider
from cradle.elements.base import WalkLimits
from cradle.elements.uia import PywinautoTree, UiaReader, uia_node
from cradle.errors import AccessibilityUnavailable, SkillExecutionError

NOTEPAD = (200, 100, 1000, 700)
SCREEN = (0, 0, 1920, 1080)


class NoPatternInterfaceError(Exception):
    pass


class FakeElement:
    """IUIAutomationElement: the Current* flags pywinauto reads off ``element_info.element``."""

    def __init__(self, node: dict[str, Any]) -> None:
        self.node = node
        self.CurrentHasKeyboardFocus = int(node["has_keyboard_focus"])
        self.CurrentIsKeyboardFocusable = int(node["is_keyboard_focusable"])
        self.CurrentIsPassword = int(node["is_password"])


class FakeInfo:
    """pywinauto's UIAElementInfo over one recorded node."""

    def __init__(self, node: dict[str, Any], pulled: list[str]) -> None:
        self.node = node
        self.pulled = pulled
        self.element = FakeElement(node)
        self.name = node["name"]
        self.control_type = node["control_type"]
        self.rectangle = SimpleNamespace(**node["rectangle"])
        self.visible = node["visible"]
        self.enabled = node["enabled"]
        self.runtime_id = tuple(node["runtime_id"])
        self.automation_id = node["automation_id"]
        self.class_name = node["class_name"]

    def iter_children(self) -> Iterator[FakeInfo]:
        for child in self.node["children"]:
            self.pulled.append(self.name)
            yield FakeInfo(child, self.pulled)


class Library:
    """``get_elem_interface`` and the pattern interfaces, recording every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, tuple]] = []
        self.fail = ""

    def interface(self, element: FakeElement, pattern: str) -> Any:
        data = element.node.get("patterns", {})
        if pattern not in data:
            raise NoPatternInterfaceError(pattern)
        library = self

        class Pattern:
            def __getattr__(self, attr: str) -> Any:
                if attr.startswith("Current"):
                    return data[pattern][attr]

                def method(*args: Any) -> None:
                    if library.fail:
                        raise RuntimeError(library.fail)
                    library.calls.append((element.node["name"], pattern, attr, args))

                return method

        return Pattern()


@pytest.fixture
def notepad(recorded):
    return recorded("uia_notepad.json")


def reader_for(tree: dict[str, Any], clock=None) -> tuple[UiaReader, Library, list[str]]:
    library, pulled = Library(), []
    source = PywinautoTree(
        lambda: [FakeInfo(w, pulled) for w in tree["windows"]], library.interface
    )
    reader = UiaReader(source, clock=clock) if clock else UiaReader(source)
    return reader, library, pulled


def all_nodes(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = list(tree["windows"])
    while stack:
        node = stack.pop()
        stack.extend(node["children"])
        yield node


def by_name(tree: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in all_nodes(tree) if n["name"] == name)


def test_conversion_gives_roles_names_values_states_boxes_actions(notepad):
    limits = WalkLimits()
    zoom = uia_node(by_name(notepad, "Zoom in"), limits)
    assert (zoom.role, zoom.name, zoom.box, zoom.actions) == (
        "push button",
        "Zoom in",
        (960, 677, 984, 697),
        ("invoke",),
    )
    assert {"enabled", "focusable"} <= zoom.states and zoom.ref.startswith("uia:42.198362.4.")
    edit = uia_node(by_name(notepad, "Text Editor"), limits)
    assert (edit.role, edit.value, edit.ref) == ("entry", "Hello from cradle", "uia:42.263426")
    assert {"focused", "editable"} <= edit.states
    wrap = uia_node(by_name(notepad, "Word wrap"), limits)
    assert (wrap.role, wrap.actions) == ("check box", ("toggle",)) and "checked" in wrap.states
    save = uia_node(by_name(notepad, "Save"), limits)
    assert "disabled" in save.states and "enabled" not in save.states and save.actions == ()
    file_menu = uia_node(by_name(notepad, "File"), limits)
    assert (file_menu.role, file_menu.actions) == ("menu item", ("expand",))
    assert {"collapsed", "expandable"} <= file_menu.states
    encoding = uia_node(by_name(notepad, "Encoding"), limits)
    assert (encoding.role, encoding.value) == ("combo box", "UTF-8")
    assert "read only" in encoding.states and "editable" not in encoding.states
    recent = uia_node(by_name(notepad, "notes.txt"), limits)
    assert recent.role == "list item" and recent.actions == ("invoke", "select")
    assert "selected" in recent.states
    assert uia_node(by_name(notepad, "Ln 1, Col 18"), limits).role == "label"
    assert uia_node(by_name(notepad, "Untitled - Notepad"), limits).role == "frame"
    assert uia_node(by_name(notepad, "Application"), limits).role == "menu bar"
    assert uia_node(by_name(notepad, "old.txt"), limits) is None  # IsOffscreen


def test_conversion_refines_roles_and_bounds_text(notepad):
    limits = WalkLimits(max_text=10)
    toggle = dict(by_name(notepad, "Zoom in"), patterns={"Toggle": {"CurrentToggleState": 1}})
    node = uia_node(toggle, limits)
    assert node.role == "toggle button" and "pressed" in node.states
    secret = dict(by_name(notepad, "Text Editor"), is_password=True)
    assert (uia_node(secret, limits).role, uia_node(secret, limits).value) == ("password text", "")
    custom = dict(by_name(notepad, "Zoom in"), control_type="Custom", name="x" * 50)
    node = uia_node(custom, limits)
    assert node.role == "push button" and node.name == "x" * 9 + "…"
    assert uia_node(dict(custom, patterns={}), limits).role == "unknown"
    assert (
        uia_node(dict(custom, control_type="SomethingNew", patterns={}), limits).role
        == "somethingnew"
    )


def test_live_source_reads_exactly_the_recorded_shape(notepad):
    library = Library()
    source = PywinautoTree(lambda: [], library.interface)
    for node in all_nodes(notepad):
        expected = {k: v for k, v in node.items() if k != "children"}
        assert source.properties(FakeInfo(node, [])) == expected, node["name"]


def test_live_source_drops_a_node_that_vanished():
    class Gone:  # what an element of a closed window gives: a COMError on every property
        def __getattr__(self, name: str) -> Any:
            raise OSError("element not available")

    source = PywinautoTree(lambda: [], Library().interface)
    assert source.properties(Gone()) is None
    assert source.children(Gone(), 5) == []


def test_walk_keeps_visible_nodes_of_windows_meeting_the_area(notepad):
    reader, _, _ = reader_for(notepad)
    snapshot = reader.read(NOTEPAD, WalkLimits())
    names = {n.name for n in snapshot.nodes}
    assert {"Untitled - Notepad", "File", "Text Editor", "Zoom in", "Save", "Close"} <= names
    assert "Learn more" in names  # its parent pane has an empty rectangle: skipped, not its child
    assert "old.txt" not in names  # offscreen
    assert "Seven" not in names and "Calculator" not in names  # a window outside the area
    assert all(n.box and n.box[2] > n.box[0] for n in snapshot.nodes)
    assert snapshot.truncated == ""
    assert len({n.ref for n in snapshot.nodes}) == len(snapshot.nodes)
    depths = {n.name: n.depth for n in snapshot.nodes}
    assert (depths["Untitled - Notepad"], depths["File"], depths["Learn more"]) == (0, 2, 3)
    whole = reader.read(SCREEN, WalkLimits())
    assert "Seven" in {n.name for n in whole.nodes}


@pytest.mark.parametrize(
    ("limits", "cut"),
    [
        (WalkLimits(max_nodes=5), "nodes"),
        (WalkLimits(max_depth=1), "depth"),
        (WalkLimits(max_children=2), "children"),
    ],
)
def test_limits_cut_the_walk_and_say_which(notepad, limits, cut):
    reader, _, pulled = reader_for(notepad)
    snapshot = reader.read(SCREEN, limits)
    assert snapshot.truncated == cut
    assert len(snapshot.nodes) <= limits.max_nodes
    assert max(n.depth for n in snapshot.nodes) <= limits.max_depth
    if cut == "depth":
        assert "Zoom in" not in {n.name for n in snapshot.nodes}
    if cut == "children":
        # never more than max_children + 1 children pulled from any node's iterator
        assert max(Counter(pulled).values()) == limits.max_children + 1
        assert "Text Editor" not in {n.name for n in snapshot.nodes}  # third child of the window


def test_time_limit_cuts_the_walk(notepad):
    ticks = iter(range(1000))
    reader, _, _ = reader_for(notepad, clock=lambda: float(next(ticks)))
    snapshot = reader.read(SCREEN, WalkLimits(seconds=4))
    assert snapshot.truncated == "time"
    assert 1 <= len(snapshot.nodes) <= 4


def test_elements_land_on_the_model_image_of_a_cropped_window(notepad, make_view):
    reader, _, _ = reader_for(notepad)
    provider = AccessibilityProvider(reader)
    # the Notepad window captured alone (800x600 at 200,100), shown to the model at half size
    elements = provider.elements(make_view((800, 600), (200, 100), 1.0, (400, 300)))
    found = {e.name: e for e in elements}
    zoom = found["Zoom in"]  # centre (972, 687) on screen
    assert (zoom.x, zoom.y, zoom.box, zoom.source) == (386, 293, (960, 677, 984, 697), "a11y")
    window = found["Untitled - Notepad"]
    assert (window.x, window.y) == (200, 150)
    assert "Seven" not in found and "old.txt" not in found


def test_actions_call_the_right_pattern(notepad, make_view):
    reader, library, _ = reader_for(notepad)
    provider = AccessibilityProvider(reader)
    found = {e.name: e for e in provider.elements(make_view((1920, 1080), (0, 0), 1.0, (960, 540)))}
    provider.do_action(found["Zoom in"], "invoke")
    provider.do_action(found["Word wrap"], "toggle")
    provider.do_action(found["File"], "expand")
    provider.do_action(found["notes.txt"], "select")
    provider.set_text(found["Text Editor"], "new text")
    assert library.calls == [
        ("Zoom in", "Invoke", "Invoke", ()),
        ("Word wrap", "Toggle", "Toggle", ()),
        ("File", "ExpandCollapse", "Expand", ()),
        ("notes.txt", "SelectionItem", "Select", ()),
        ("Text Editor", "Value", "SetValue", ("new text",)),
    ]


def test_action_failures_are_one_line_errors(notepad):
    reader, library, _ = reader_for(notepad)
    snapshot = reader.read(SCREEN, WalkLimits())
    refs = {n.name: n.ref for n in snapshot.nodes}
    cases = [
        lambda: reader.do_action(refs["Zoom in"], "explode"),
        lambda: reader.set_text(refs["Zoom in"], "no Value pattern"),
        lambda: reader.set_text(refs["Text Editor"], "x" * 20_001),
        lambda: reader.do_action("uia:1.2.3", "invoke"),
    ]
    for case in cases:
        with pytest.raises(SkillExecutionError) as caught:
            case()
        assert "\n" not in str(caught.value)
    library.fail = "COMError -2147220991 event cannot call any subscribers"
    with pytest.raises(SkillExecutionError, match="refused invoke"):
        reader.do_action(refs["Zoom in"], "invoke")
    assert library.calls == []


def test_missing_pywinauto_turns_the_tree_off_with_an_install_hint(monkeypatch, make_view):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "pywinauto", None)
    with pytest.raises(AccessibilityUnavailable) as caught:
        UiaReader().read(SCREEN, WalkLimits())
    message = str(caught.value)
    assert "pip install 'cradle[windows]'" in message and "\n" not in message
    provider = AccessibilityProvider(UiaReader())
    assert provider.elements(make_view((100, 100), (0, 0), 1.0, (100, 100))) == []
    assert "cradle[windows]" in provider.unavailable


def test_elsewhere_than_windows_the_reader_says_so():
    if sys.platform == "win32":
        pytest.skip("runs on Windows")
    with pytest.raises(AccessibilityUnavailable, match="only on Windows"):
        UiaReader().read(SCREEN, WalkLimits())


def test_readers_and_their_libraries_are_not_imported_with_cradle():
    code = (
        "import sys, cradle, cradle.elements, cradle.elements.platform, "
        "cradle.elements.accessibility\n"
        "assert not {'cradle.elements.uia', 'cradle.elements.ax'} & set(sys.modules)\n"
        "import cradle.elements.uia, cradle.elements.ax\n"
        "heavy = {'pywinauto', 'comtypes', 'ApplicationServices', 'HIServices', 'objc'}\n"
        "assert not heavy & set(sys.modules), heavy & set(sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
