"""Skills that act on a widget described in words, located by a grounding model.

The planner says what it wants ("the File menu", "the blue Save button"); the grounding model
configured with ``--grounding-base-url``/``--grounding-model`` answers where it is on the
current screen, and the click goes through the one coordinate mapping. The grounder's reply,
its latency and the point are the action's result (and drawn in the report). Without a
grounder these skills are not offered to the model, and calling one says which flags to give.
"""

from __future__ import annotations

from cradle.computer_use.grounding import locate
from cradle.skills import SkillContext, skill


@skill
def click_target(ctx: SkillContext, description: str) -> dict:
    """Click the element described in words, found on the screen by the grounding model.

    Args:
        description: What to click, as a person would say it, e.g. "the File menu".
    """
    found = locate(ctx, description, "click_target")
    ctx.click(found.x, found.y)
    return found.result("click")


@skill
def double_click_target(ctx: SkillContext, description: str) -> dict:
    """Double-click the element described in words (found by the grounding model).

    Args:
        description: What to double-click, e.g. "the report.pdf icon".
    """
    found = locate(ctx, description, "double_click_target")
    ctx.click(found.x, found.y, clicks=2)
    return found.result("double_click")


@skill
def right_click_target(ctx: SkillContext, description: str) -> dict:
    """Right-click the element described in words (found by the grounding model).

    Args:
        description: What to right-click, e.g. "the selected text".
    """
    found = locate(ctx, description, "right_click_target")
    ctx.click(found.x, found.y, button="right")
    return found.result("right_click")


@skill
def type_into(ctx: SkillContext, description: str, text: str) -> dict:
    """Click the field described in words (found by the grounding model), then type text.

    Args:
        description: The field, e.g. "the File name field of the Save dialog".
        text: What to type into it.
    """
    found = locate(ctx, description, "type_into")
    ctx.click(found.x, found.y)
    ctx.type_text(text)
    return found.result("type_into")
