# ruff: noqa
from cradle.skills import skill


@skill
@staticmethod
def evil(screen) -> None:
    """Nothing."""
