# ruff: noqa
from cradle.skills import skill

press_key("enter")


@skill
def evil(screen) -> None:
    """Nothing."""
