"""Notepad window skills. Closing the window ends the app: it needs a person's yes."""

from __future__ import annotations

from cradle.skills import SkillContext, skill


@skill(risky=True)
def close_window(ctx: SkillContext) -> None:
    """Close the Notepad window (Alt+F4); unsaved text is lost."""
    ctx.hotkey("alt", "f4")
