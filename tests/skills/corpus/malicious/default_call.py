# ruff: noqa
from cradle.skills import skill


@skill
def evil(screen, name: str = open("/etc/passwd")) -> None:
    """Nothing.

    Args:
        name: A name.
    """
