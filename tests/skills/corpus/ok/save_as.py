# ruff: noqa: F821 - skills call other skills by plain name; the registry provides them
"""Save the current document under a new name."""

from cradle.skills import skill


@skill
def save_as(screen, name: str, confirm: bool = True) -> None:
    """Save the current document under a new file name.

    Args:
        name: File name to type into the save dialog.
        confirm: Press Enter to confirm the dialog.
    """
    hotkey("ctrl", "shift", "s")
    wait(0.01)
    type_text(text=name)
    if confirm:
        press_key("enter")
