"""The macOS AX reader on a recorded TextEdit-like tree (no Mac here).

A fake ``ApplicationServices`` module answers the pyobjc calls from ``fixtures/ax_textedit.json``
the way pyobjc does (``(error, value)`` pairs, AXValueRef boxes for points and sizes, error
boxes for unsupported attributes); the reader's own code runs unchanged.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from cradle.elements.accessibility import AccessibilityProvider
from cradle.elements.ax import AxReader, PyobjcTree, action_label, ax_action, ax_node
from cradle.elements.base import WalkLimits
from cradle.errors import AccessibilityUnavailable, SkillExecutionError

TEXTEDIT = (100, 80, 700, 580)
SCREEN = (0, 0, 1440, 900)
UNSUPPORTED, NO_VALUE, ACTION_UNSUPPORTED = -25205, -25212, -25206


class AXValue:
    def __init__(self, kind: int, value: Any) -> None:
        self.kind, self.value = kind, value


class AXElement:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data


class FakeApplicationServices:
    """The pyobjc functions and constants the reader uses, over a recorded tree."""

    AXValueRef = AXValue
    kAXValueTypeCGPoint, kAXValueTypeCGSize, kAXValueTypeCFRange, kAXValueTypeAXError = 1, 2, 4, 5
    kCGWindowListOptionOnScreenOnly, kCGWindowListExcludeDesktopElements = 1, 16
    kCGNullWindowID = 0
    kCGWindowBounds, kCGWindowOwnerPID = "kCGWindowBounds", "kCGWindowOwnerPID"
    kCGWindowLayer = "kCGWindowLayer"

    def __init__(self, tree: dict[str, Any], trusted: bool = True) -> None:
        self.tree = tree
        self.trusted = trusted
        self.calls: list[tuple] = []
        self.widest = 0
        self.error = 0
        self.no_ranges = False

    def AXIsProcessTrusted(self) -> bool:
        return self.trusted

    def AXUIElementCreateSystemWide(self) -> AXElement:
        return AXElement({})

    def AXUIElementSetMessagingTimeout(self, element: AXElement, seconds: float) -> int:
        self.calls.append(("timeout", seconds))
        return 0

    def CGWindowListCopyWindowInfo(self, options: int, window: int) -> list[dict]:
        assert options == 17 and window == 0
        return self.tree["cg_windows"]

    def AXUIElementCreateApplication(self, pid: int) -> AXElement:
        return AXElement(self.tree["apps"][str(pid)])

    def _box(self, name: str, value: Any) -> Any:
        if name == "AXPosition":
            return AXValue(self.kAXValueTypeCGPoint, tuple(value))
        if name == "AXSize":
            return AXValue(self.kAXValueTypeCGSize, tuple(value))
        if isinstance(value, dict):
            return AXElement(value)
        if isinstance(value, list) and name != "actions":
            return [AXElement(v) for v in value]
        return value

    def AXUIElementCopyAttributeValue(self, element: AXElement, name: str, out: None):
        if self.error:
            return self.error, None
        if name not in element.data:
            return NO_VALUE, None
        if name == "AXValue":
            self.calls.append(("AXValue", element.data.get("AXRole")))
        return 0, self._box(name, element.data[name])

    def AXUIElementCopyAttributeValues(
        self, element: AXElement, name: str, index: int, most: int, out: None
    ):
        self.widest = max(self.widest, most)
        if self.error or self.no_ranges:
            return self.error or -25201, None
        if name not in element.data:
            return NO_VALUE, None
        return 0, self._box(name, element.data[name][index : index + most])

    def AXUIElementCopyMultipleAttributeValues(
        self, element: AXElement, names, options: int, out: None
    ):
        if self.error:
            return self.error, None
        assert "AXValue" not in names  # values are read apart, bounded
        return 0, [
            self._box(n, element.data[n])
            if n in element.data
            else AXValue(self.kAXValueTypeAXError, UNSUPPORTED)
            for n in names
        ]

    def AXValueGetType(self, value: AXValue) -> int:
        return value.kind

    def AXValueGetValue(self, value: AXValue, kind: int, out: None):
        return (True, value.value) if kind == value.kind else (False, None)

    def AXValueCreate(self, kind: int, value: Any) -> AXValue:
        return AXValue(kind, value)

    def AXUIElementCopyParameterizedAttributeValue(
        self, element: AXElement, name: str, parameter: AXValue, out: None
    ):
        assert name == "AXStringForRange" and parameter.kind == self.kAXValueTypeCFRange
        start, length = parameter.value
        self.calls.append(("AXStringForRange", length))
        return 0, element.data["AXValue"][start : start + length]

    def AXUIElementCopyActionNames(self, element: AXElement, out: None):
        return 0, list(element.data.get("actions", []))

    def AXUIElementPerformAction(self, element: AXElement, action: str) -> int:
        if action not in element.data.get("actions", []):
            return ACTION_UNSUPPORTED
        self.calls.append(("perform", self._label(element), action))
        return 0

    def AXUIElementIsAttributeSettable(self, element: AXElement, name: str, out: None):
        return 0, element.data.get("AXRole") in ("AXTextField", "AXTextArea")

    def AXUIElementSetAttributeValue(self, element: AXElement, name: str, value: Any) -> int:
        self.calls.append(("set", element.data.get("AXRole"), name, value))
        return 0

    @staticmethod
    def _label(element: AXElement) -> str:
        return element.data.get("AXTitle") or element.data.get("AXDescription") or ""


@pytest.fixture
def textedit(recorded):
    return recorded("ax_textedit.json")


def reader_for(tree: dict[str, Any]) -> tuple[AxReader, FakeApplicationServices]:
    api = FakeApplicationServices(tree)
    return AxReader(PyobjcTree(api)), api


def read(tree: dict[str, Any], area=TEXTEDIT, limits: WalkLimits | None = None):
    reader, api = reader_for(tree)
    snapshot = reader.read(area, limits or WalkLimits())
    return {n.name or n.role: n for n in snapshot.nodes}, snapshot, api


def test_conversion_gives_roles_names_values_states_actions(textedit):
    nodes, snapshot, _ = read(textedit)
    bold = nodes["Bold"]  # icon-only: the name comes from AXDescription
    assert (bold.role, bold.box, bold.actions) == (
        "push button",
        (400, 110, 424, 134),
        ("press", "show menu"),
    )
    assert nodes["close button"].role == "push button"  # AXCloseButton: no title, no description
    assert [n.role for n in snapshot.nodes if n.name == "Find:"] == ["label", "entry"]
    field = next(n for n in snapshot.nodes if n.role == "entry")
    assert (field.name, field.value, field.actions) == ("Find:", "", ("confirm", "show menu"))
    assert "editable" in field.states  # named by its AXTitleUIElement
    wrap = nodes["Wrap"]
    assert (wrap.role, wrap.value) == ("check box", "") and "checked" in wrap.states
    font = nodes["Font family"]
    assert (font.role, font.value) == ("combo box", "Helvetica")
    underline = nodes["Underline"]
    assert "disabled" in underline.states and underline.actions == ()
    area = next(n for n in snapshot.nodes if n.role == "text")
    assert (area.value, area.actions) == ("Hello from cradle", ("show menu",))
    assert {"focused", "editable"} <= area.states
    assert nodes["Untitled"].role == "frame"
    assert nodes["Help"].role == "link"  # its AXGroup has an empty size: skipped, not its child
    assert "scrolled out of view" not in nodes  # placed outside the captured area
    assert "New Note" not in nodes and "Notes" not in nodes  # another app's window elsewhere
    assert "File" not in nodes  # the menu bar is outside the cropped window
    assert snapshot.truncated == ""


def test_conversion_of_single_attribute_sets():
    limits = WalkLimits(max_text=8)
    assert ax_node({"AXRole": "AXButton", "AXHidden": True}, limits) is None
    assert (
        ax_node(
            {"AXRole": "AXWindow", "AXMinimized": True, "AXPosition": [0, 0], "AXSize": [9, 9]},
            limits,
        )
        is None
    )
    secure = ax_node(
        {"AXRole": "AXTextField", "AXSubrole": "AXSecureTextField", "AXValue": "hunter2"}, limits
    )
    assert (secure.role, secure.value) == ("password text", "")
    tab = ax_node(
        {"AXRole": "AXRadioButton", "AXSubrole": "AXTabButton", "AXTitle": "General", "AXValue": 1},
        limits,
    )
    assert tab.role == "page tab" and "checked" in tab.states
    slider = ax_node({"AXRole": "AXSlider", "AXValue": 40.0, "AXExpanded": False}, limits)
    assert (slider.value, slider.box) == ("40", None) and "collapsed" in slider.states
    text = ax_node({"AXRole": "AXStaticText", "AXValue": "a long line of text"}, limits)
    assert (text.role, text.name, text.value) == ("label", "a long …", "")
    odd = ax_node(
        {"AXRole": "AXFancyThing", "actions": ["AXPress", "Name:Copy\nTarget:0x0"]}, limits
    )
    assert (odd.role, odd.actions) == ("fancything", ("press",))
    assert (action_label("AXShowMenu"), ax_action("show menu")) == ("show menu", "AXShowMenu")


def test_whole_screen_adds_the_menu_bar_and_other_apps(textedit):
    nodes, _, _ = read(textedit, area=SCREEN)
    assert nodes["File"].role == "menu" and nodes["File"].actions == ("press", "cancel")
    assert "New Note" in nodes


def test_long_text_is_read_through_a_bounded_range(textedit):
    area = textedit["apps"]["501"]["AXWindows"][0]["AXChildren"][5]["AXChildren"][0]
    area.update(AXValue="word " * 50_000, AXNumberOfCharacters=250_000)
    nodes, snapshot, api = read(textedit, limits=WalkLimits(max_text=50))
    text = next(n for n in snapshot.nodes if n.role == "text")
    assert len(text.value) == 50 and text.value.endswith("…")
    assert ("AXStringForRange", 4096) in api.calls
    assert ("AXValue", "AXTextArea") not in api.calls


def test_children_are_fetched_by_range(textedit):
    _, snapshot, api = read(textedit, limits=WalkLimits(max_children=2))
    assert snapshot.truncated == "children" and api.widest == 3


def test_an_app_without_ranged_access_is_still_read_and_cut(textedit):
    reader, api = reader_for(textedit)
    api.no_ranges = True
    snapshot = reader.read(TEXTEDIT, WalkLimits(max_children=2))
    assert snapshot.truncated == "children"
    assert {"Untitled", "close button", "minimize button"} == {n.name for n in snapshot.nodes}


def test_elements_land_on_the_model_image_at_retina_scale(textedit, make_view):
    reader, _ = reader_for(textedit)
    provider = AccessibilityProvider(reader)
    # the TextEdit window (600x500 points at 100,80) captured at 2x, shown at half the pixels
    view = make_view((1200, 1000), (100, 80), 2.0, (600, 500))
    found = {e.name: e for e in provider.elements(view)}
    bold = found["Bold"]  # centre (412, 122) points
    assert (bold.x, bold.y, bold.box) == (312, 42, (400, 110, 424, 134))
    assert (found["Untitled"].x, found["Untitled"].y) == (300, 250)


def test_actions_press_and_set_the_value(textedit, make_view):
    reader, api = reader_for(textedit)
    provider = AccessibilityProvider(reader)
    found = {
        e.name: e for e in provider.elements(make_view((2880, 1800), (0, 0), 2.0, (1440, 900)))
    }
    provider.do_action(found["Bold"], "press")
    provider.do_action(found["Font family"], "show menu")
    field = next(e for e in found.values() if e.role == "entry")
    provider.set_text(field, "cradle")
    assert [c for c in api.calls if c[0] in ("perform", "set")] == [
        ("perform", "Bold", "AXPress"),
        ("perform", "Font family", "AXShowMenu"),
        ("set", "AXTextField", "AXValue", "cradle"),
    ]


def test_action_failures_are_one_line_errors(textedit):
    reader, api = reader_for(textedit)
    refs = {n.name: n.ref for n in reader.read(TEXTEDIT, WalkLimits()).nodes}
    cases = [
        (lambda: reader.set_text(refs["Bold"], "x"), "attribute unsupported"),
        (lambda: reader.do_action(refs["Underline"], "show menu"), "action unsupported"),
        (lambda: reader.do_action(refs["Bold"], "AXPress; rm -rf"), "not an AX action"),
    ]
    for case, says in cases:
        with pytest.raises(SkillExecutionError, match=says) as caught:
            case()
        assert "\n" not in str(caught.value)
    old = refs["Bold"]
    reader.read(TEXTEDIT, WalkLimits())  # a new walk: path refs of the old one no longer match
    with pytest.raises(SkillExecutionError, match="look at the screen again"):
        reader.do_action(old, "press")


def test_permission_missing_says_where_to_grant_it(monkeypatch, textedit, make_view):
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setitem(
        sys.modules, "ApplicationServices", FakeApplicationServices(textedit, trusted=False)
    )
    with pytest.raises(AccessibilityUnavailable) as caught:
        AxReader().read(SCREEN, WalkLimits())
    message = str(caught.value)
    assert "Privacy & Security > Accessibility" in message and "\n" not in message
    api = FakeApplicationServices(textedit)
    api.error = -25211  # permission withdrawn while running
    provider = AccessibilityProvider(AxReader(PyobjcTree(api)))
    assert provider.elements(make_view((1440, 900), (0, 0), 1.0, (720, 450))) == []
    assert "Privacy & Security" in provider.unavailable


def test_trusted_load_bounds_how_long_an_app_may_take(monkeypatch, textedit):
    api = FakeApplicationServices(textedit)
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setitem(sys.modules, "ApplicationServices", api)
    snapshot = AxReader().read(TEXTEDIT, WalkLimits())
    assert ("timeout", 1.0) in api.calls and snapshot.nodes


def test_missing_pyobjc_turns_the_tree_off_with_an_install_hint(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setitem(sys.modules, "ApplicationServices", None)
    with pytest.raises(AccessibilityUnavailable) as caught:
        AxReader().read(SCREEN, WalkLimits())
    assert "pip install 'cradle[macos]'" in str(caught.value)
    assert "\n" not in str(caught.value)
