"""macOS accessibility trees through the AX API, read with pyobjc (``ApplicationServices``).

``ax_node`` turns one element's attributes (``AXRole``, ``AXTitle``, ``AXPosition``, ...; the
names the AX API uses) into an ``AccessibleNode`` with AT-SPI-style role names. ``PyobjcTree``
is the live ``TreeSource``: the apps owning on-screen windows that meet the captured area
(``CGWindowListCopyWindowInfo``, front first), their ``AXWindows`` and the front app's menu
bar, each element's attributes read in one ``AXUIElementCopyMultipleAttributeValues`` call.
``AxReader`` walks it with the shared bounded walk, presses through ``AXUIElementPerformAction``
and sets text through ``AXUIElementSetAttributeValue(AXValue)``.

AX positions are points from the top-left of the main display: input coordinates, which the
``CoordinateMap`` scales to Retina pixels. The process running cradle needs the Accessibility
permission; pyobjc is imported on the first read (``pip install 'cradle[macos]'``).
"""

from __future__ import annotations

import itertools
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from cradle.elements.base import AccessibleNode, Box, TreeSnapshot, WalkLimits, clip_text
from cradle.elements.treewalk import (
    Handles,
    checked_text,
    intersects,
    load_library,
    refused,
    walk_tree,
)
from cradle.errors import AccessibilityUnavailable, SkillExecutionError

AX_ROLES = {
    "AXApplication": "application",
    "AXWindow": "frame",
    "AXSheet": "dialog",
    "AXDrawer": "panel",
    "AXGroup": "panel",
    "AXRadioGroup": "grouping",
    "AXTabGroup": "page tab list",
    "AXSplitGroup": "split pane",
    "AXScrollArea": "scroll pane",
    "AXScrollBar": "scroll bar",
    "AXValueIndicator": "scroll bar",
    "AXSplitter": "separator",
    "AXToolbar": "tool bar",
    "AXMenuBar": "menu bar",
    "AXMenuBarItem": "menu",
    "AXMenu": "panel",
    "AXMenuItem": "menu item",
    "AXButton": "push button",
    "AXMenuButton": "push button",
    "AXCheckBox": "check box",
    "AXRadioButton": "radio button",
    "AXPopUpButton": "combo box",
    "AXComboBox": "combo box",
    "AXDisclosureTriangle": "toggle button",
    "AXTextField": "entry",
    "AXTextArea": "text",
    "AXStaticText": "label",
    "AXLink": "link",
    "AXImage": "image",
    "AXSlider": "slider",
    "AXIncrementor": "spin button",
    "AXTable": "table",
    "AXOutline": "tree table",
    "AXList": "list",
    "AXGrid": "table",
    "AXRow": "list item",
    "AXColumn": "filler",
    "AXCell": "table cell",
    "AXProgressIndicator": "progress bar",
    "AXBusyIndicator": "progress bar",
    "AXLevelIndicator": "level bar",
    "AXRelevanceIndicator": "level bar",
    "AXHelpTag": "tool tip",
    "AXWebArea": "document web",
    "AXHeading": "heading",
    "AXColorWell": "push button",
    "AXDateField": "entry",
    "AXBrowser": "panel",
    "AXLayoutArea": "panel",
    "AXLayoutItem": "panel",
    "AXGrowArea": "filler",
    "AXMatte": "filler",
    "AXRuler": "filler",
    "AXUnknown": "unknown",
}
"""AXRole -> AT-SPI role name (``AXMenu`` is the popup holding the items, a container)."""

AX_SUBROLES = {
    "AXSecureTextField": "password text",
    "AXSearchField": "entry",
    "AXTabButton": "page tab",
    "AXDialog": "dialog",
    "AXSystemDialog": "dialog",
    "AXToggle": "toggle button",
    "AXOutlineRow": "tree item",
    "AXTableRow": "list item",
    "AXSwitch": "toggle button",
}
"""AXSubrole refinements of the role."""

ATTRIBUTES = (
    "AXRole",
    "AXSubrole",
    "AXRoleDescription",
    "AXTitle",
    "AXDescription",
    "AXPosition",
    "AXSize",
    "AXEnabled",
    "AXFocused",
    "AXSelected",
    "AXExpanded",
    "AXHidden",
    "AXMinimized",
    "AXNumberOfCharacters",
    "AXTitleUIElement",
)
"""Attributes read per element, all in one call. ``AXValue`` is read apart, only for the
roles where it means something, and through ``AXStringForRange`` when the text is long: a
document's whole text is never copied."""
VALUE_ROLES = frozenset(
    {
        "AXStaticText",
        "AXTextField",
        "AXTextArea",
        "AXComboBox",
        "AXCheckBox",
        "AXRadioButton",
        "AXSlider",
        "AXIncrementor",
        "AXPopUpButton",
        "AXDisclosureTriangle",
        "AXLevelIndicator",
        "AXProgressIndicator",
        "AXDateField",
    }
)
VALUE_SUBROLES = frozenset({"AXToggle", "AXSwitch", "AXTabButton"})
MAX_VALUE_CHARS = 4096
"""Characters of a long text's value copied out of the app (the node keeps fewer)."""

SKIPPED_ACTIONS = frozenset({"AXScrollToVisible", "AXShowDefaultUI", "AXShowAlternateUI"})
TEXT_ROLES = frozenset({"entry", "text", "password text", "combo box"})
API_DISABLED = -25211
"""kAXErrorAPIDisabled: this process lacks the Accessibility permission."""
AX_ERRORS = {
    -25200: "failure",
    -25201: "illegal argument",
    -25202: "invalid element",
    -25204: "cannot complete (the app is busy)",
    -25205: "attribute unsupported",
    -25206: "action unsupported",
    -25211: "API disabled",
    -25212: "no value",
}
PERMISSION = (
    "macOS does not let this program read other apps' accessibility: add the terminal (or the "
    "Python) that runs cradle in System Settings > Privacy & Security > Accessibility, then "
    "restart it"
)
RANGE_UNSUPPORTED = frozenset({-25200, -25201, -25208})
"""Errors of ``AXUIElementCopyAttributeValues`` from apps that only answer the whole array."""
MESSAGING_SECONDS = 1.0
"""Longest wait for one app's answer: a hung app costs at most this per call."""
MAX_APPS = 16


def action_label(name: str) -> str:
    """``AXShowMenu`` -> ``show menu`` (the name offered on elements)."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name.removeprefix("AX")).lower()


def ax_action(label: str) -> str:
    """``show menu`` -> ``AXShowMenu``."""
    return "AX" + "".join(word.capitalize() for word in label.split())


def _role(attrs: Mapping[str, Any]) -> str:
    subrole = str(attrs.get("AXSubrole") or "")
    if subrole in AX_SUBROLES:
        return AX_SUBROLES[subrole]
    role = str(attrs.get("AXRole") or "")
    return AX_ROLES.get(role) or (role.removeprefix("AX").lower() or "unknown")


def _box(attrs: Mapping[str, Any]) -> Box | None:
    try:
        (x, y), (width, height) = attrs["AXPosition"], attrs["AXSize"]
        return round(x), round(y), round(x + width), round(y + height)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _name(attrs: Mapping[str, Any], role: str) -> str:
    """AXTitle, else AXDescription, else a static text's value, else its label's text, else
    the description of a subrole (a window's unlabelled close button says 'close button')."""
    for candidate in (
        attrs.get("AXTitle"),
        attrs.get("AXDescription"),
        attrs.get("AXValue") if role == "label" else None,
        attrs.get("AXTitleUIElement"),
        attrs.get("AXRoleDescription") if attrs.get("AXSubrole") else None,
    ):
        if _text(candidate).strip():
            return _text(candidate)
    return ""


def _states(attrs: Mapping[str, Any], role: str) -> set[str]:
    enabled = attrs.get("AXEnabled", True) is not False
    states = {"showing", "visible", "enabled" if enabled else "disabled"}
    if attrs.get("AXFocused"):
        states.add("focused")
    if attrs.get("AXSelected"):
        states.add("selected")
    if "AXExpanded" in attrs:
        states.add("expanded" if attrs["AXExpanded"] else "collapsed")
    value = attrs.get("AXValue")
    if role in ("check box", "radio button", "toggle button", "page tab") and not isinstance(
        value, str
    ):
        if value == 1:
            states.add("pressed" if role == "toggle button" else "checked")
        elif value == 2:
            states.add("indeterminate")
    if role in TEXT_ROLES and enabled:
        states.add("editable")
    return states


def _value(attrs: Mapping[str, Any], role: str) -> str:
    value = attrs.get("AXValue")
    if (
        role in ("label", "password text", "check box", "radio button", "toggle button", "page tab")
        or value is None
        or isinstance(value, bool)
    ):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, str | int | float) else ""


def ax_node(attrs: Mapping[str, Any], limits: WalkLimits) -> AccessibleNode | None:
    """One AX element as an ``AccessibleNode``; None when hidden or a minimized window (its
    AXPosition is still where it was: its subtree is skipped)."""
    if attrs.get("AXHidden") or attrs.get("AXMinimized"):
        return None
    role = _role(attrs)
    states = _states(attrs, role)
    actions = [
        a
        for a in attrs.get("actions") or ()
        if isinstance(a, str) and a.startswith("AX") and a not in SKIPPED_ACTIONS and "\n" not in a
    ]
    actions.sort(key=lambda a: a != "AXPress")
    return AccessibleNode(
        role=role,
        name=clip_text(_name(attrs, role), limits.max_text),
        value=clip_text(_value(attrs, role), limits.max_text),
        states=frozenset(states),
        box=_box(attrs),
        actions=tuple(action_label(a) for a in actions[:8]) if "disabled" not in states else (),
    )


class PyobjcTree:
    """The live ``TreeSource``: AXUIElementRef handles, read through ``api`` (the
    ``ApplicationServices`` module of pyobjc, or a stand-in with the same functions)."""

    def __init__(self, api: Any) -> None:
        self.api = api

    @classmethod
    def load(cls) -> PyobjcTree:
        if sys.platform != "darwin":
            raise AccessibilityUnavailable("the AX accessibility API exists only on macOS")
        api = load_library("ApplicationServices", "Reading macOS accessibility trees", "macos")
        if not api.AXIsProcessTrusted():
            raise AccessibilityUnavailable(PERMISSION)
        api.AXUIElementSetMessagingTimeout(api.AXUIElementCreateSystemWide(), MESSAGING_SECONDS)
        return cls(api)

    def _pids(self, area: Box) -> list[int]:
        """Owners of on-screen normal windows meeting ``area``, front first."""
        api = self.api
        options = api.kCGWindowListOptionOnScreenOnly | api.kCGWindowListExcludeDesktopElements
        pids: list[int] = []
        for info in api.CGWindowListCopyWindowInfo(options, api.kCGNullWindowID) or ():
            bounds = info.get(api.kCGWindowBounds) or {}
            try:
                x, y = float(bounds["X"]), float(bounds["Y"])
                box = (
                    round(x),
                    round(y),
                    round(x + float(bounds["Width"])),
                    round(y + float(bounds["Height"])),
                )
                pid = int(info[api.kCGWindowOwnerPID])
            except (KeyError, TypeError, ValueError):
                continue
            if info.get(api.kCGWindowLayer, 0) == 0 and intersects(box, area) and pid not in pids:
                pids.append(pid)
        return pids[:MAX_APPS]

    def roots(self, area: Box, limit: int) -> list[Any]:
        roots: list[Any] = []
        for i, pid in enumerate(self._pids(area)):
            app = self.api.AXUIElementCreateApplication(pid)
            roots.extend(self._values(app, "AXWindows", limit))
            if i == 0:
                err, bar = self.api.AXUIElementCopyAttributeValue(app, "AXMenuBar", None)
                self._check(err)
                if err == 0 and bar is not None:
                    roots.append(bar)
        return roots[:limit]

    def _check(self, err: int) -> None:
        if err == API_DISABLED:
            raise AccessibilityUnavailable(PERMISSION)

    def _values(self, element: Any, attribute: str, limit: int) -> list[Any]:
        """The first ``limit`` values of an array attribute, never the whole array."""
        err, values = self.api.AXUIElementCopyAttributeValues(element, attribute, 0, limit, None)
        self._check(err)
        if err in RANGE_UNSUPPORTED:  # an app without ranged access: copy, then cut
            err, values = self.api.AXUIElementCopyAttributeValue(element, attribute, None)
        return list(itertools.islice(values or (), limit)) if err == 0 else []

    def _plain(self, value: Any) -> Any:
        """A CF value as plain Python: AXValue points/sizes unpacked, errors as None."""
        api = self.api
        if isinstance(value, api.AXValueRef):
            kind = api.AXValueGetType(value)
            if kind not in (api.kAXValueTypeCGPoint, api.kAXValueTypeCGSize):
                return None
            ok, pair = api.AXValueGetValue(value, kind, None)
            return [float(pair[0]), float(pair[1])] if ok else None
        if isinstance(value, bool | int | float | str):
            return value
        return None

    def properties(self, handle: Any) -> dict[str, Any] | None:
        api = self.api
        err, values = api.AXUIElementCopyMultipleAttributeValues(handle, ATTRIBUTES, 0, None)
        self._check(err)
        if err != 0 or values is None:
            return None
        raw = dict(zip(ATTRIBUTES, values, strict=False))
        attrs = {
            k: v
            for k, v in ((k, self._plain(v)) for k, v in raw.items() if k != "AXTitleUIElement")
            if v is not None
        }
        label = raw.get("AXTitleUIElement")
        if (
            label is not None
            and not isinstance(label, api.AXValueRef)
            and not (attrs.get("AXTitle") or attrs.get("AXDescription"))
        ):
            attrs["AXTitleUIElement"] = self._label_text(label)
        if attrs.get("AXRole") in VALUE_ROLES or attrs.get("AXSubrole") in VALUE_SUBROLES:
            value = self._value(handle, attrs.get("AXNumberOfCharacters"))
            if value is not None:
                attrs["AXValue"] = value
        err, actions = api.AXUIElementCopyActionNames(handle, None)
        attrs["actions"] = [str(a) for a in actions or ()] if err == 0 else []
        return attrs

    def _value(self, handle: Any, length: Any) -> Any:
        """AXValue, or its first ``MAX_VALUE_CHARS`` characters when the text is longer."""
        api = self.api
        if isinstance(length, int) and not isinstance(length, bool) and length > MAX_VALUE_CHARS:
            span = api.AXValueCreate(api.kAXValueTypeCFRange, (0, MAX_VALUE_CHARS))
            err, text = api.AXUIElementCopyParameterizedAttributeValue(
                handle, "AXStringForRange", span, None
            )
        else:
            err, text = api.AXUIElementCopyAttributeValue(handle, "AXValue", None)
        return self._plain(text) if err == 0 else None

    def _label_text(self, label: Any) -> str:
        """The text of the static text that labels a field (AXTitleUIElement)."""
        for attribute in ("AXValue", "AXTitle"):
            err, text = self.api.AXUIElementCopyAttributeValue(label, attribute, None)
            if err == 0 and isinstance(text, str) and text.strip():
                return text
        return ""

    def children(self, handle: Any, limit: int) -> list[Any]:
        return self._values(handle, "AXChildren", limit)

    def perform(self, handle: Any, action: str) -> int:
        return int(self.api.AXUIElementPerformAction(handle, action))

    def set_value(self, handle: Any, text: str) -> int:
        err, settable = self.api.AXUIElementIsAttributeSettable(handle, "AXValue", None)
        if err == 0 and not settable:
            return -25205
        return int(self.api.AXUIElementSetAttributeValue(handle, "AXValue", text))


class AxReader:
    """``TreeReader`` for the macOS AX API; nothing is imported until the first read."""

    def __init__(
        self, tree: PyobjcTree | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._tree = tree
        self._clock = clock
        self._handles: Handles[Any] = Handles()

    def _source(self) -> PyobjcTree:
        if self._tree is None:
            self._tree = PyobjcTree.load()
        return self._tree

    def read(self, area: Box, limits: WalkLimits) -> TreeSnapshot:
        walked = walk_tree(
            self._source(),
            ax_node,
            area,
            limits,
            prefix=self._handles.next_prefix("ax"),
            clock=self._clock,
        )
        self._handles.replace(walked.handles)
        return walked.snapshot

    def do_action(self, ref: str, action: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z ]{0,39}", action):
            raise SkillExecutionError(
                f"{action[:40]!r} is not an AX action name; use one the element offers "
                "(press, show menu, increment, ...)"
            )
        name = ax_action(action)
        return self._result(
            f"{action} ({name})", lambda handle: self._source().perform(handle, name), ref
        )

    def set_text(self, ref: str, text: str) -> str:
        checked_text(text)
        return self._result(
            "setting the text (AXValue)", lambda handle: self._source().set_value(handle, text), ref
        )

    def _result(self, what: str, act: Callable[[Any], int], ref: str) -> str:
        handle = self._handles.get(ref)
        try:
            err = act(handle)
        except Exception as exc:  # noqa: BLE001 - pyobjc raises on a bad argument
            raise refused(what, exc) from None
        if err == API_DISABLED:
            raise AccessibilityUnavailable(PERMISSION)
        if err != 0:
            raise SkillExecutionError(
                f"the app refused {what}: {AX_ERRORS.get(err, f'AX error {err}')}; click or "
                "type instead"
            )
        return ""

    def close(self) -> None:
        self._handles.replace({})
