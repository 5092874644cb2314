"""Where a step's time went: the loop closes a lap after each stage and records them all."""

from __future__ import annotations

import time


class Stopwatch:
    """Per-stage wall times of one step, in ms: each ``lap`` closes the stage since the last."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._start = self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(self.laps.get(stage, 0.0) + (now - self._last) * 1000, 3)
        self._last = now

    def total(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 3)
