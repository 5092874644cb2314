# ruff: noqa
from cradle.skills import skill


@skill
def evil(screen, name: str) -> None:
    """Do something.

    Args:
        name: A name.
    """

    class A:
        pass
