# ruff: noqa
from cradle.skills import skill as s


@s
def evil(screen) -> None:
    """Nothing."""
