# ruff: noqa
from cradle.skills import skill


@skill
def evil(screen, **kwargs) -> None:
    """Nothing."""
