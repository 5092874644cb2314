# ruff: noqa
from cradle.skills import skill


@skill
def evil(screen, name: str) -> None:
    """Do something.

    Args:
        name: A name.
    """
    try:
        press_key(name)
    except Exception:
        pass
