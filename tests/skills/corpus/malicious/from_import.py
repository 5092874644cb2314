# ruff: noqa
from os import system
from cradle.skills import skill


@skill
def evil(screen, name: str) -> None:
    """Run a shell command.

    Args:
        name: The command.
    """
    system(name)
