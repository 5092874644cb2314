"""A :class:`~cradle.types.Task` run as one episode and judged: what ``cradle eval`` and
``cradle run --task-file`` run for each task.

The environment's ``reset(task, place)`` runs the setup (a failed setup fails the task at
stage ``setup`` before any model call), the loop runs with the task's ``max_steps`` and its
``timeout`` as the wall-time budget, the final screen and the environment's state are
captured, and :func:`~cradle.tasks.checks.judge` decides. The model's "done" is a claim; the
verdict is the fact. The episode's skills are promoted only when the checker passed.
"""

from __future__ import annotations

import time
from pathlib import Path

from cradle.agent import AgentSettings
from cradle.episode import Episode, EpisodeSettings
from cradle.errors import CradleError
from cradle.llm.base import ModelProvider
from cradle.progress import Progress
from cradle.runtime import Runtime
from cradle.signals import deferred
from cradle.tasks.outcome import display_problem, judged, totals, write_verdict
from cradle.tasks.setup import EpisodePlace
from cradle.trajectory.recorder import RunRecorder
from cradle.types import Task, TaskResult


def run_task(
    runtime: Runtime,
    task: Task,
    *,
    runs_dir: Path,
    place: EpisodePlace | None = None,
    model: ModelProvider | None = None,
    agent: AgentSettings | None = None,
    progress: Progress | None = None,
) -> TaskResult:
    """Run ``task`` as one episode from ``runtime`` and judge it; never raises for the task's
    own failure (a bad environment name, a failed setup, a crash or a failed check all come
    back as an unsuccessful :class:`TaskResult` with the reason in ``error``).

    ``place`` is the episode's own home, temp folder and display (``cradle eval`` makes one
    per episode, on the worker's virtual display, which must be this process's ``DISPLAY``);
    without one, a private home is made inside the run folder on this process's display.
    Setup commands, launched apps and ``command``/``file`` checks all run in it, and apps the
    setup launched are stopped at the end. ``model`` replaces the runtime's model for this
    episode (a scripted one for ``--reference`` or ``--noop``); ``agent`` the runtime's loop
    settings (``max_steps`` and the wall-time budget always come from the task). The run
    folder gets ``verdict.json`` (this result) and ``screenshots/final.png``. A stop signal
    (Ctrl+C, SIGTERM) during the loop ends the episode as ``interrupted`` (unjudged); one
    during setup or judging propagates as ``Stopped``.
    """
    started = time.monotonic()
    base = TaskResult(id=task.id, environment=task.environment, success=False)
    try:
        settings = EpisodeSettings.for_task(runtime.settings, task, runs_dir, agent)
        episode = Episode(
            runtime,
            settings,
            task=task,
            place=place,
            own_place=True,
            model=model,
            progress=progress,
        )
        recorder = episode.create_recorder()
    except Exception as exc:  # noqa: BLE001 - an unknown environment or bad option fails the task
        error = str(exc) if isinstance(exc, CradleError) else f"{type(exc).__name__}: {exc}"
        return base.model_copy(
            update={"stage": "setup", "error": error, "seconds": _since(started)}
        )
    result = _run_and_judge(episode, recorder, task, base)
    result = result.model_copy(update={"seconds": _since(started)})
    write_verdict(recorder, result)
    return result


def _run_and_judge(
    episode: Episode, recorder: RunRecorder, task: Task, base: TaskResult
) -> TaskResult:
    """The episode's loop in its place, then the verdict; the episode and its place are
    closed whatever happens (its skills promoted only if the checker passed)."""
    place = episode.place
    assert place is not None  # given, or made with the run folder (own_place)
    result: TaskResult | None = None
    try:
        display = display_problem(episode.environment, place)
        if display:
            episode.refuse(recorder, display)
        ran = None if display else episode.loop(recorder)
        result = judged(episode, task, ran, base)
    except Exception as exc:  # noqa: BLE001 - a crashed episode is a failed task
        result = base.model_copy(
            update={
                "stage": "episode",
                "error": f"{type(exc).__name__}: {exc}",
                **totals(recorder),
                "status": recorder.info.status,
            }
        )
    finally:
        with deferred():
            episode.close(promote=result is not None and result.success)
            place.close()
    return result


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
