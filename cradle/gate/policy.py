"""Which actions may run, and which need a person's yes first.

Skills marked ``@skill(risky=True)`` and skills an environment lists as risky (closing
windows, deleting, sending, paying) are gated by ``--confirm``: ``risky`` (default) asks
before those, ``all`` asks before every action, ``never`` asks nothing. With no terminal to
ask on, a gated action is refused, never run. Allow and deny lists narrow the skills an
environment offers; a denied skill is neither shown to the model nor run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from cradle.skills import Skill
from cradle.types import SkillCall

ConfirmMode = Literal["risky", "all", "never"]
Confirmer = Callable[[str], bool]
"""Asks a person about one action (its rendered call); True means go ahead."""


def terminal_confirmer(prompt: str) -> bool:
    """Ask on the terminal; only an explicit yes counts."""
    try:
        answer = input(f"cradle: run {prompt}? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def default_confirmer() -> Confirmer | None:
    """The terminal when there is one, else nothing (gated actions are refused)."""
    return terminal_confirmer if sys.stdin is not None and sys.stdin.isatty() else None


@dataclass
class ActionPolicy:
    confirm: ConfirmMode = "risky"
    risky_skills: frozenset[str] = frozenset()
    allow: frozenset[str] | None = None
    """When set, only these skills exist for the run."""
    deny: frozenset[str] = frozenset()
    confirmer: Confirmer | None = None

    def permits(self, name: str) -> bool:
        return name not in self.deny and (self.allow is None or name in self.allow)

    def visible(self, skills: Iterable[Skill]) -> list[str]:
        return [s.name for s in skills if self.permits(s.name)]

    def needs_confirmation(self, skill: Skill, *, nested: bool = False) -> bool:
        if self.confirm == "never":
            return False
        all_ = self.confirm == "all" and not nested  # the outer action was confirmed already
        return all_ or skill.risky or skill.name in self.risky_skills

    def refusal(self, skill: Skill, call: SkillCall, *, nested: bool = False) -> str:
        """Why ``call`` must not run, or an empty string when it may.

        ``nested`` is a call one skill makes of another while running: the same lists and
        risky marks apply, so wrapping a denied or risky skill does not get around them.
        """
        if not self.permits(skill.name):
            return f"skill {skill.name!r} is not allowed in this environment"
        if not self.needs_confirmation(skill, nested=nested):
            return ""
        if self.confirmer is None:
            return (
                f"{call.render()} needs confirmation and there is no terminal to ask; "
                "refused (run interactively, or pass --confirm never to allow it)"
            )
        if not self.confirmer(call.render()):
            return f"the user declined {call.render()}"
        return ""
