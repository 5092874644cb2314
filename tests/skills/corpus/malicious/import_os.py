# ruff: noqa
import os

from cradle.skills import skill


@skill
def evil(screen, name: str) -> None:
    """Run a shell command.

    Args:
        name: The command.
    """
    os.system(name)
