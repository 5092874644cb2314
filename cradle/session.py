"""``Session``: one runtime and one episode, for code written before the split.

A run is an :class:`~cradle.episode.Episode` from a :class:`~cradle.runtime.Runtime`;
``cradle run`` builds one of each (:func:`~cradle.episode.open_episode`). ``Session`` is that
pair behind the interface tests and benchmarks already use: ``Session(settings).run()``,
``session.environment``, ``session.recorder``. New code should use the runtime and episode.
Checks that need no side effects (bad task text, unknown environment, missing key) happen
before the run folder is created; from then on, every way the run ends is written to
run.json. The memory store opens in the background meanwhile: one that cannot be opened (an
unreachable server) ends the run before its first step, recorded in run.json.
"""

from __future__ import annotations

from typing import Any

from cradle.episode import Episode, EpisodeSettings, Prepare, open_episode
from cradle.gate.policy import ActionPolicy, Confirmer
from cradle.modules import LongTermMemory
from cradle.progress import Progress
from cradle.runtime import MemorySettings, ModelSettings, SafetySettings, open_long_term
from cradle.trajectory.recorder import RunRecorder
from cradle.types import RunResult, StepRecord

SessionSettings = EpisodeSettings
"""A run's settings (the name run.json's readers and older code use)."""

__all__ = [
    "MemorySettings",
    "ModelSettings",
    "SafetySettings",
    "Session",
    "SessionSettings",
    "open_long_term",
]


class Session:
    """One run of one task: one runtime, one episode that owns it."""

    def __init__(
        self,
        settings: EpisodeSettings,
        *,
        model: Any = None,
        progress: Progress | None = None,
        long_term: LongTermMemory | None = None,
        confirmer: Confirmer | None = None,
    ) -> None:
        self.settings = settings
        self.episode: Episode = open_episode(
            settings, model=model, progress=progress, long_term=long_term, confirmer=confirmer
        )
        self.runtime = self.episode.runtime
        self.environment = self.episode.environment
        self.model = self.runtime.model
        self.warnings = self.runtime.warnings

    @property
    def recorder(self) -> RunRecorder | None:
        return self.episode.recorder

    def _policy(self) -> ActionPolicy:
        return self.episode.policy()

    def run(self) -> RunResult:
        """Start a new run folder and run the task in it."""
        return self.episode.run()

    def drive(
        self,
        recorder: RunRecorder,
        *,
        first_step: int = 1,
        history: tuple[StepRecord, ...] | list[StepRecord] = (),
        prepare: Prepare | None = None,
    ) -> RunResult:
        """Run the loop into an existing run folder (resume); see ``Episode.loop``."""
        return self.episode.drive(recorder, first_step=first_step, history=history, prepare=prepare)

    def close(self) -> None:
        self.episode.close()
