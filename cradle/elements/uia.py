"""Windows accessibility trees through UI Automation, read with pywinauto's ``uia`` backend.

``uia_node`` turns one node's recorded properties (the names pywinauto's element_info and the
UIA control patterns use) into an ``AccessibleNode`` with AT-SPI-style role names, so the
rest of cradle treats every platform alike. ``PywinautoTree`` is the live ``TreeSource``;
``UiaReader`` walks it with the shared bounded walk and acts through the Invoke, Toggle,
ExpandCollapse, SelectionItem and Value patterns.

UIA rectangles are physical screen pixels for a DPI-aware process, and pywinauto makes the
process DPI-aware when imported, as the input library expects. pywinauto is imported on the
first read (``pip install 'cradle[windows]'``); importing this module costs nothing.
"""

from __future__ import annotations

import importlib
import itertools
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from cradle.elements.base import AccessibleNode, Box, TreeSnapshot, WalkLimits, clip_text
from cradle.elements.treewalk import Handles, checked_text, load_library, refused, walk_tree
from cradle.errors import AccessibilityUnavailable, SkillExecutionError

UIA_ROLES = {
    "AppBar": "tool bar",
    "Button": "push button",
    "Calendar": "panel",
    "CheckBox": "check box",
    "ComboBox": "combo box",
    "Custom": "unknown",
    "DataGrid": "table",
    "DataItem": "table cell",
    "Document": "document frame",
    "Edit": "entry",
    "Group": "grouping",
    "Header": "panel",
    "HeaderItem": "table column header",
    "Hyperlink": "link",
    "Image": "image",
    "List": "list",
    "ListItem": "list item",
    "Menu": "panel",
    "MenuBar": "menu bar",
    "MenuItem": "menu item",
    "Pane": "panel",
    "ProgressBar": "progress bar",
    "RadioButton": "radio button",
    "ScrollBar": "scroll bar",
    "SemanticZoom": "panel",
    "Separator": "separator",
    "Slider": "slider",
    "Spinner": "spin button",
    "SplitButton": "split button",
    "StatusBar": "status bar",
    "Tab": "page tab list",
    "TabItem": "page tab",
    "Table": "table",
    "Text": "label",
    "Thumb": "scroll bar",
    "TitleBar": "panel",
    "ToolBar": "tool bar",
    "ToolTip": "tool tip",
    "Tree": "tree",
    "TreeItem": "tree item",
    "Window": "frame",
}
"""UIA ControlType names -> AT-SPI role names (``Menu`` is the popup holding the items, a
container; ``TitleBar`` holds the minimize/maximize/close buttons)."""

PATTERNS = ("Invoke", "Toggle", "ExpandCollapse", "SelectionItem", "Value")
"""The control patterns read per node: they give the actions and most states."""

NO_PATTERNS = frozenset(
    {
        "Window",
        "Pane",
        "TitleBar",
        "ToolBar",
        "MenuBar",
        "StatusBar",
        "ScrollBar",
        "Thumb",
        "Separator",
        "Header",
        "Group",
        "Tab",
        "Table",
        "DataGrid",
        "List",
        "Tree",
        "Image",
        "Text",
        "ProgressBar",
        "ToolTip",
        "AppBar",
        "Calendar",
        "SemanticZoom",
        "Menu",
    }
)
"""Control types whose patterns are not read: containers and plain text (saves ~5 calls)."""

ACTIONS = {
    "invoke": ("Invoke", "Invoke"),
    "toggle": ("Toggle", "Toggle"),
    "expand": ("ExpandCollapse", "Expand"),
    "collapse": ("ExpandCollapse", "Collapse"),
    "select": ("SelectionItem", "Select"),
}
"""Action names offered on elements -> (pattern, method of the pattern interface)."""

TOGGLE_ON, TOGGLE_INDETERMINATE = 1, 2
"""ToggleState values (Off is 0)."""
COLLAPSED, EXPANDED, PARTIALLY_EXPANDED, LEAF = 0, 1, 2, 3
"""ExpandCollapseState values."""


def rect_box(rect: Mapping[str, Any] | None) -> Box | None:
    """pywinauto's RECT (left, top, right, bottom) as a box; None when missing."""
    if not rect:
        return None
    try:
        return (int(rect["left"]), int(rect["top"]), int(rect["right"]), int(rect["bottom"]))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def runtime_ref(runtime_id: Any) -> str:
    """``uia:42.1234.4`` from a RuntimeId (ints, stable while the element lives); '' if none."""
    try:
        parts = [int(part) for part in runtime_id or ()]
    except (TypeError, ValueError):
        return ""
    return "uia:" + ".".join(map(str, parts)) if parts else ""


def _role(control: str, patterns: Mapping[str, Any]) -> str:
    """The role name, refined by the patterns where the control type says too little."""
    if control == "Button" and "Toggle" in patterns:
        return "toggle button"
    if control == "Custom" and "Invoke" in patterns:
        return "push button"
    value = patterns.get("Value") or {}
    if control == "Document" and "Value" in patterns and not value.get("CurrentIsReadOnly"):
        return "text"
    return UIA_ROLES.get(control) or (control.lower() if control else "unknown")


def _pattern_states(role: str, patterns: Mapping[str, Any]) -> set[str]:
    states: set[str] = set()
    toggle = patterns.get("Toggle")
    if toggle is not None:
        state = toggle.get("CurrentToggleState")
        if state == TOGGLE_ON:
            states.add("pressed" if role == "toggle button" else "checked")
        elif state == TOGGLE_INDETERMINATE:
            states.add("indeterminate")
    expand = patterns.get("ExpandCollapse")
    if expand is not None:
        state = expand.get("CurrentExpandCollapseState")
        if state in (EXPANDED, PARTIALLY_EXPANDED):
            states |= {"expandable", "expanded"}
        elif state == COLLAPSED:
            states |= {"expandable", "collapsed"}
    selection = patterns.get("SelectionItem")
    if selection is not None:
        states.add("selectable")
        if selection.get("CurrentIsSelected"):
            states.add("selected")
    value = patterns.get("Value")
    if value is not None:
        states.add("read only" if value.get("CurrentIsReadOnly") else "editable")
    return states


def _actions(patterns: Mapping[str, Any]) -> tuple[str, ...]:
    """Actions in the order a default press should pick them (invoke first)."""
    found = []
    if "Invoke" in patterns:
        found.append("invoke")
    if "Toggle" in patterns:
        found.append("toggle")
    state = (patterns.get("ExpandCollapse") or {}).get("CurrentExpandCollapseState", LEAF)
    if state in (COLLAPSED, PARTIALLY_EXPANDED):
        found.append("expand")
    elif state == EXPANDED:
        found.append("collapse")
    if "SelectionItem" in patterns:
        found.append("select")
    return tuple(found)


def uia_node(props: Mapping[str, Any], limits: WalkLimits) -> AccessibleNode | None:
    """One UIA node as an ``AccessibleNode``; None when it is offscreen (subtree skipped)."""
    if not props.get("visible", True):
        return None
    control = str(props.get("control_type") or "")
    patterns: Mapping[str, Any] = props.get("patterns") or {}
    role = _role(control, patterns)
    enabled = bool(props.get("enabled", True))
    states = _pattern_states(role, patterns) | {"showing", "visible"}
    states.add("enabled" if enabled else "disabled")
    if props.get("has_keyboard_focus"):
        states.add("focused")
    if props.get("is_keyboard_focusable"):
        states.add("focusable")
    value = ""
    if props.get("is_password"):
        role = "password text"
    elif "Value" in patterns:
        value = clip_text(str(patterns["Value"].get("CurrentValue") or ""), limits.max_text)
    return AccessibleNode(
        role=role,
        name=clip_text(str(props.get("name") or ""), limits.max_text),
        value=value,
        states=frozenset(states),
        box=rect_box(props.get("rectangle")),
        actions=_actions(patterns) if enabled else (),
        ref=runtime_ref(props.get("runtime_id")),
    )


Interface = Callable[[Any, str], Any]
"""``get_elem_interface(element, pattern_name)``: the pattern's COM interface, raising when
the element does not support it."""


class PywinautoTree:
    """The live ``TreeSource``: pywinauto element_info objects as handles.

    Any failure reading one node (a ``COMError`` when the element vanished) drops that node
    only; a failure listing the desktop's windows means UI Automation does not answer at all.
    """

    def __init__(self, windows: Callable[[], list[Any]], interface: Interface) -> None:
        self.windows = windows
        self.interface = interface

    @classmethod
    def load(cls) -> PywinautoTree:
        """The tree through the installed pywinauto (0.6.x layout or the newer one)."""
        if sys.platform != "win32":
            raise AccessibilityUnavailable("UI Automation exists only on Windows")
        pywinauto = load_library("pywinauto", "Reading UI Automation trees", "windows")
        try:
            defines = importlib.import_module("pywinauto.windows.uia_defines")
        except ImportError:
            defines = load_library("pywinauto.uia_defines", "UI Automation", "windows")
        try:
            desktop = pywinauto.Desktop(backend="uia")
        except Exception as exc:  # noqa: BLE001 - the uia backend needs UIAutomationCore
            raise AccessibilityUnavailable(
                f"pywinauto cannot use UI Automation here ({type(exc).__name__}: {str(exc)[:120]})"
            ) from None
        return cls(lambda: [w.element_info for w in desktop.windows()], defines.get_elem_interface)

    def roots(self, area: Box, limit: int) -> list[Any]:
        try:
            return list(itertools.islice(self.windows(), limit))
        except Exception as exc:  # noqa: BLE001 - COM not initialised, UIA service gone
            raise AccessibilityUnavailable(
                f"UI Automation does not answer ({type(exc).__name__}: {str(exc)[:120]})"
            ) from None

    def properties(self, handle: Any) -> dict[str, Any] | None:
        try:
            rect = handle.rectangle
            control = handle.control_type
            visible = bool(handle.visible)
            element = handle.element
            props = {
                "control_type": control,
                "name": handle.name,
                "rectangle": {
                    "left": rect.left,
                    "top": rect.top,
                    "right": rect.right,
                    "bottom": rect.bottom,
                },
                "visible": visible,
                "enabled": bool(handle.enabled),
                "runtime_id": list(handle.runtime_id or ()),
                "automation_id": handle.automation_id,
                "class_name": handle.class_name,
                "has_keyboard_focus": bool(element.CurrentHasKeyboardFocus),
                "is_keyboard_focusable": bool(element.CurrentIsKeyboardFocusable),
                "is_password": bool(element.CurrentIsPassword),
            }
            if visible and control not in NO_PATTERNS:
                props["patterns"] = self._patterns(element)
            return props
        except Exception:  # noqa: BLE001 - COMError: the element went away mid-walk
            return None

    def _patterns(self, element: Any) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for name in PATTERNS:
            try:
                iface = self.interface(element, name)
            except Exception:  # noqa: BLE001 - NoPatternInterfaceError: not supported
                continue
            if name == "Toggle":
                found[name] = {"CurrentToggleState": int(iface.CurrentToggleState)}
            elif name == "ExpandCollapse":
                found[name] = {"CurrentExpandCollapseState": int(iface.CurrentExpandCollapseState)}
            elif name == "SelectionItem":
                found[name] = {"CurrentIsSelected": bool(iface.CurrentIsSelected)}
            elif name == "Value":
                found[name] = {
                    "CurrentValue": str(iface.CurrentValue or "")[:4096],
                    "CurrentIsReadOnly": bool(iface.CurrentIsReadOnly),
                }
            else:
                found[name] = {}
        return found

    def children(self, handle: Any, limit: int) -> list[Any]:
        try:
            return list(itertools.islice(handle.iter_children(), limit))
        except Exception:  # noqa: BLE001 - the element went away
            return []

    def act(self, handle: Any, pattern: str, method: str, *args: Any) -> None:
        """Call ``method`` of the node's ``pattern`` interface (e.g. Invoke.Invoke())."""
        getattr(self.interface(handle.element, pattern), method)(*args)


class UiaReader:
    """``TreeReader`` for Windows UI Automation; nothing is imported until the first read."""

    def __init__(
        self, tree: PywinautoTree | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._tree = tree
        self._clock = clock
        self._handles: Handles[Any] = Handles()

    def _source(self) -> PywinautoTree:
        if self._tree is None:
            self._tree = PywinautoTree.load()
        return self._tree

    def read(self, area: Box, limits: WalkLimits) -> TreeSnapshot:
        walked = walk_tree(
            self._source(),
            uia_node,
            area,
            limits,
            prefix=self._handles.next_prefix("uia"),
            clock=self._clock,
        )
        self._handles.replace(walked.handles)
        return walked.snapshot

    def do_action(self, ref: str, action: str) -> str:
        if action.casefold() not in ACTIONS:
            raise SkillExecutionError(
                f"UI Automation has no action {action[:40]!r}; use one of {sorted(ACTIONS)}"
            )
        pattern, method = ACTIONS[action.casefold()]
        return self._act(ref, pattern, method, f"{action.casefold()} ({pattern} pattern)")

    def set_text(self, ref: str, text: str) -> str:
        return self._act(
            ref, "Value", "SetValue", "setting the text (Value pattern)", checked_text(text)
        )

    def _act(self, ref: str, pattern: str, method: str, what: str, *args: Any) -> str:
        handle = self._handles.get(ref)
        try:
            self._source().act(handle, pattern, method, *args)
        except Exception as exc:  # noqa: BLE001 - COMError, NoPatternInterfaceError
            raise refused(what, exc) from None
        return ""

    def close(self) -> None:
        self._handles.replace({})
