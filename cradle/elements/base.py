"""What every element provider shares: the view it looks at, its protocol, accessible nodes.

A provider turns one captured frame into ``cradle.types.Element`` objects. Vision providers
(OCR, contours) read pixels; accessibility providers ask the app. An accessibility reader for
any platform only has to produce ``AccessibleNode`` objects in screen pixels within
``WalkLimits``; ``node_to_element`` and ``AccessibilityProvider`` do the rest the same way
on every platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image

from cradle.screen.mapping import CoordinateMap
from cradle.types import Element, ElementSource

Box = tuple[int, int, int, int]
"""(x0, y0, x1, y1), right/bottom exclusive."""

CONTAINER_ROLES = frozenset(
    {
        "application",
        "frame",
        "window",
        "dialog",
        "panel",
        "filler",
        "scroll pane",
        "viewport",
        "layered pane",
        "root pane",
        "split pane",
        "internal frame",
        "desktop frame",
        "glass pane",
        "option pane",
        "redundant object",
        "section",
        "document frame",
        "document web",
        "form",
        "grouping",
        "tool bar",
        "menu bar",
        "status bar",
        "page tab list",
        "table",
        "tree table",
        "list",
        "list box",
        "scroll bar",
        "separator",
        "unknown",
        "invalid",
        "image",
        "canvas",
        "paragraph",
        "block quote",
        "landmark",
        "article",
        "static",
    }
)
"""Roles that hold other elements rather than being acted on themselves (lower case,
AT-SPI role names; the Windows and macOS readers map their roles onto these names)."""

INTERACTIVE_ROLES = frozenset(
    {
        "push button",
        "toggle button",
        "radio button",
        "check box",
        "menu item",
        "check menu item",
        "radio menu item",
        "menu",
        "combo box",
        "entry",
        "password text",
        "text",
        "spin button",
        "slider",
        "link",
        "page tab",
        "list item",
        "tree item",
        "table cell",
        "icon",
        "button",
        "split button",
        "editbar",
        "terminal",
        "tear off menu item",
    }
)
"""Roles a user acts on: the targets of the grounding benchmark and the first to get marks."""


@dataclass(frozen=True)
class View:
    """One captured frame as the providers see it.

    ``frame`` is the capture (device pixels of the captured area), ``shown`` the image the
    model is shown (downscaled), ``mapping`` takes ``shown`` pixels to screen/input pixels and
    back, ``digest`` identifies the frame (providers cache by it).
    """

    frame: Image.Image
    shown: Image.Image
    mapping: CoordinateMap
    digest: str


class ElementProvider(Protocol):
    """Finds elements on a view. Implementations bound their own time and output size."""

    source: ElementSource

    def elements(self, view: View) -> list[Element]:
        """Elements seen on ``view``; centres in ``view.shown`` pixels, boxes in screen pixels."""
        ...


class ElementActor(Protocol):
    """Acts on an element through the app's accessibility interface instead of input events.

    A fallback for when clicks or keystrokes do not reach a widget; the skills that use it say
    so in their result, so the trajectory records which way an action went.
    """

    def do_action(self, element: Element, action: str) -> str:
        """Run the element's named action (``press``, ``click``, ``activate``, ...)."""
        ...

    def set_text(self, element: Element, text: str) -> str:
        """Replace the text of an editable element."""
        ...


@dataclass(frozen=True)
class WalkLimits:
    """Bounds on one accessibility tree walk: an app can expose a million nodes, or hang."""

    max_nodes: int = 3000
    max_depth: int = 40
    max_children: int = 500
    """Children read per node: a list with 100,000 rows is cut, not walked."""
    seconds: float = 1.5
    max_text: int = 200
    """Characters kept of a name or value."""


@dataclass(frozen=True)
class AccessibleNode:
    """One node of an accessibility tree, platform-neutral, box in screen pixels."""

    role: str
    name: str = ""
    value: str = ""
    states: frozenset[str] = frozenset()
    """Lower-case state names (AT-SPI's: focused, checked, ...). Readers report ``enabled``
    (or ``sensitive``) for usable nodes; a node with states but neither is shown as disabled."""
    box: Box | None = None
    actions: tuple[str, ...] = ()
    ref: str = ""
    """The reader's handle for acting on the node later (bus name + path, runtime id, ...)."""
    depth: int = 0


@dataclass(frozen=True)
class TreeSnapshot:
    """What a reader returns for one walk: the nodes, and whether a limit cut the walk."""

    nodes: list[AccessibleNode] = field(default_factory=list)
    truncated: str = ""
    """Empty when complete; else which limit stopped it ("time", "nodes", ...)."""
    seconds: float = 0.0


class TreeReader(Protocol):
    """A platform's accessibility tree, read within limits (AT-SPI, UI Automation, AX)."""

    def read(self, area: Box, limits: WalkLimits) -> TreeSnapshot:
        """Visible nodes of the apps whose windows intersect ``area`` (screen pixels)."""
        ...

    def do_action(self, ref: str, action: str) -> str: ...

    def set_text(self, ref: str, text: str) -> str: ...

    def close(self) -> None: ...


def clip_text(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks a cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)] + "…"


def node_to_element(node: AccessibleNode, mapping: CoordinateMap) -> Element | None:
    """The element for ``node`` on the model's image, or None when it is not on it."""
    if node.box is None:
        return None
    x0, y0, x1, y1 = node.box
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    cx, cy = mapping.to_image((x0 + x1) / 2, (y0 + y1) / 2)
    if not mapping.contains(cx, cy):
        return None
    states = set(node.states)
    if states and not states & {"enabled", "sensitive"}:
        states.add("disabled")
    # A password field's text is never read back, whoever typed it.
    value = "" if node.role == "password text" else node.value
    return Element(
        role=node.role,
        name=node.name,
        value=value,
        states=sorted(states),
        x=cx,
        y=cy,
        box=node.box,
        source="a11y",
        actions=list(node.actions),
        ref=node.ref,
    )


def image_box(element: Element, mapping: CoordinateMap) -> Box:
    """``element``'s box in model-image pixels (a 1-pixel box at its centre when it has none)."""
    if element.box is None:
        return element.x, element.y, element.x + 1, element.y + 1
    x0, y0 = mapping.to_image(element.box[0], element.box[1])
    x1, y1 = mapping.to_image(element.box[2], element.box[3])
    return x0, y0, max(x0 + 1, x1), max(y0 + 1, y1)


def screen_box(box: Box, mapping: CoordinateMap) -> Box:
    """A model-image box in screen pixels (what vision providers record as ``box``)."""
    x0, y0 = mapping.to_input(box[0], box[1])
    x1, y1 = mapping.to_input(box[2], box[3])
    return x0, y0, x1, y1
