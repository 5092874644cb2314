"""How each skill has fared across runs: calls, successes and failures.

A call counts as a success when the next step's self-reflection says the actions worked, and
as a failure when it says they did not or when the skill raised. The numbers are kept in one
small JSON file (written atomically), shown by ``cradle skills list/show`` and usable for
ranking.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from cradle.paths import data_dir
from cradle.types import ActionOutcome


class SkillStat(BaseModel):
    calls: int = 0
    successes: int = 0
    failures: int = 0

    @property
    def success_rate(self) -> float | None:
        judged = self.successes + self.failures
        return self.successes / judged if judged else None


def default_stats_path() -> Path:
    return data_dir() / "skill-stats.json"


class SkillStats:
    """Counts kept in memory as deltas and added to the file on ``save``.

    Saving re-reads the file and adds only this run's deltas, so two runs that save at
    different times do not erase each other's counts. A broken file is reported, not trusted.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_stats_path()
        self.problem = ""
        self._stats: dict[str, SkillStat] = self._read()
        self._delta: dict[str, SkillStat] = {}

    def _read(self) -> dict[str, SkillStat]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {name: SkillStat.model_validate(value) for name, value in raw.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, AttributeError, ValidationError) as exc:
            self.problem = f"skill statistics file {self.path} is unreadable ({exc}); not updated"
            return {}

    def get(self, name: str) -> SkillStat:
        return self._stats.get(name, SkillStat())

    def all(self) -> dict[str, SkillStat]:
        return dict(self._stats)

    def _bump(self, name: str, *, calls: int = 0, successes: int = 0, failures: int = 0) -> None:
        for table in (self._stats, self._delta):
            stat = table.setdefault(name, SkillStat())
            stat.calls += calls
            stat.successes += successes
            stat.failures += failures

    def record_executed(self, outcomes: Iterable[ActionOutcome]) -> None:
        """Count the calls of a step; failures that raised count at once."""
        for outcome in outcomes:
            if outcome.call is None or outcome.status not in ("ok", "failed"):
                continue
            self._bump(outcome.call.skill, calls=1, failures=int(outcome.status == "failed"))

    def record_judged(self, outcomes: Iterable[ActionOutcome], succeeded: bool) -> None:
        """Self-reflection's verdict on a step's ok actions."""
        for outcome in outcomes:
            if outcome.call is not None and outcome.status == "ok":
                self._bump(
                    outcome.call.skill, successes=int(succeeded), failures=int(not succeeded)
                )

    def save(self) -> None:
        """Add this run's deltas to what is on disk now and replace the file atomically."""
        if self.problem or not self._delta:
            return
        merged = self._read()
        for name, delta in self._delta.items():
            stat = merged.setdefault(name, SkillStat())
            stat.calls += delta.calls
            stat.successes += delta.successes
            stat.failures += delta.failures
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        payload = {name: stat.model_dump() for name, stat in sorted(merged.items())}
        tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
        self._stats, self._delta = merged, {}
