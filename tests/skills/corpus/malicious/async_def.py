# ruff: noqa
from cradle.skills import skill


@skill
async def evil(screen) -> None:
    """Nothing."""
