# ruff: noqa
from cradle.skills import skill


class Evil:
    pass
