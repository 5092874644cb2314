"""Grounding skills: click what is on screen by its text, its mark number or its icon.

The model names the target; the framework finds it (accessible names from the app's tree,
OCR, set-of-mark boxes, template matching) and clicks its centre in screenshot pixels, so no
coordinates are guessed. They work on every screen: when the environment provides no
perception, the screen is read on the spot (see ``cradle.vision.grounding``).
"""

from __future__ import annotations

from cradle.errors import SkillExecutionError
from cradle.skills import SkillContext, skill
from cradle.vision.grounding import (
    current_perception,
    exactly_named,
    image_folders,
    named_spans,
    shown_perception,
)
from cradle.vision.match import find_text
from cradle.vision.templates import find_template, load_template


@skill
def click_text(ctx: SkillContext, text: str, nth: int = 0) -> str:
    """Click the text shown on screen (button, menu item, link), matched tolerantly by OCR,
    or an element's accessible name (an icon-only button named "Zoom in" is clickable so).

    Args:
        text: The visible text or accessible name to click, e.g. "Save" or "Sign in".
        nth: 0 when the text must appear once; 1, 2, ... picks among repeats in reading order.
    """
    perception = current_perception(ctx, need="text")
    named = named_spans(perception, ctx)
    # An element named exactly so wins over the same words drawn beside it (the label
    # "Email" next to the field named "Email"): the name is what the app says it is.
    exact = exactly_named(perception, ctx, text)
    if exact:
        match = find_text(text, exact, [[span] for span in exact], nth=nth)
    else:
        match = find_text(
            text,
            named + perception.text,
            [[span] for span in named] + perception.line_words,
            nth=nth,
        )
    x, y = match.center
    ctx.click(x, y)
    return f"clicked {match.text!r} at ({x}, {y})"


@skill
def click_label(ctx: SkillContext, label: int) -> str:
    """Click the element with this mark number on the marked screenshot.

    Args:
        label: The number drawn next to the element's box.
    """
    perception = shown_perception(ctx)
    if perception is None or not perception.elements:
        perception = current_perception(ctx, need="marks")
    for element in perception.elements:
        if element.label == str(label):
            ctx.click(element.x, element.y)
            return f"clicked mark {label} at ({element.x}, {element.y})"
    count = len(perception.elements)
    raise SkillExecutionError(
        f"no mark {label} on the screenshot; marks are 1..{count}"
        if count
        else f"no mark {label}: no elements were marked on this screenshot"
    )


@skill
def click_image(ctx: SkillContext, name: str) -> str:
    """Click the icon called name (an image shipped with the environment) where it appears.

    Args:
        name: The icon's name, e.g. "save_icon" for images/save_icon.png.
    """
    template = load_template(name, image_folders(ctx))
    frame = ctx.capture()
    found = find_template(frame, template, name=name)
    fx, fy = found.center
    width, height = ctx.mapping.image_size
    x = min(width - 1, round(fx * width / frame.width))
    y = min(height - 1, round(fy * height / frame.height))
    ctx.click(x, y)
    return f"clicked image {name!r} at ({x}, {y}), match {found.score:.2f}"
