"""Acting through the app's accessibility tree: a fallback for when input events fail.

Clicks and keystrokes are what a person does and stay the first choice. Some widgets ignore
synthetic input (a window that never gets focus, a button under an overlay, a field whose
key handler drops fast typing); where the app's tree offers an action or editable text, these
skills act through it instead. Their results say "through the accessibility tree" so the
trajectory records which way the action went. They need an environment that reads the tree
(the desktop on Linux with AT-SPI); elsewhere they fail with a message saying so.
"""

from __future__ import annotations

from cradle.errors import SkillExecutionError
from cradle.skills import SkillContext, skill
from cradle.types import Element
from cradle.vision.grounding import accessibility_of, current_perception, named_spans
from cradle.vision.match import find_text


def _find(ctx: SkillContext, name: str, nth: int) -> Element:
    """The accessible element called ``name`` (matched like ``click_text`` matches text)."""
    if accessibility_of(ctx) is None:
        raise SkillExecutionError(
            "this environment does not read an accessibility tree; use click_text or "
            "click_label instead"
        )
    perception = current_perception(ctx, need="tree")
    spans = named_spans(perception, ctx)
    if not spans:
        raise SkillExecutionError(
            "no named elements in the accessibility tree on this screen (the app may not expose "
            "one); use click_text or click_label instead"
        )
    match = find_text(name, spans, [[s] for s in spans], nth=nth)
    named = [e for e in perception.accessible if e.name == match.text]
    return min(named, key=lambda e: abs(e.x - match.center[0]) + abs(e.y - match.center[1]))


@skill
def press_element(ctx: SkillContext, name: str, action: str = "", nth: int = 0) -> str:
    """Press a button, menu item or link by its accessible name through the accessibility
    tree, without a mouse click: a fallback when clicking it did nothing.

    Args:
        name: The element's accessible name, e.g. "Zoom in" or "Save".
        action: The tree action to run; empty picks the element's first (usually press/click).
        nth: 0 when the name must appear once; 1, 2, ... picks among repeats in reading order.
    """
    element = _find(ctx, name, nth)
    chosen = action or (element.actions[0] if element.actions else "")
    if not chosen:
        raise SkillExecutionError(
            f"{element.role} {element.name!r} offers no accessibility action; click it instead"
        )
    actor = accessibility_of(ctx)
    assert actor is not None
    detail = actor.do_action(element, chosen)
    return (
        f"{chosen} on {element.role} {element.name!r} through the accessibility tree "
        f"(no input event){': ' + detail if detail else ''}"
    )


@skill
def set_field_text(ctx: SkillContext, name: str, text: str, nth: int = 0) -> str:
    """Replace the whole text of an editable field, found by its accessible name, through the
    accessibility tree: a fallback when typing into it did not arrive.

    Args:
        name: The field's accessible name (its label), e.g. "Email".
        text: The new text of the field.
        nth: 0 when the name must appear once; 1, 2, ... picks among repeats in reading order.
    """
    element = _find(ctx, name, nth)
    actor = accessibility_of(ctx)
    assert actor is not None
    detail = actor.set_text(element, text)
    return (
        f"set the text of {element.role} {element.name!r} through the accessibility tree "
        f"(no input event){': ' + detail if detail else ''}"
    )
