# ruff: noqa
from cradle.skills import skill

secret = __builtins__


@skill
def evil(screen) -> None:
    """Nothing."""
