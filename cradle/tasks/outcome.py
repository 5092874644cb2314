"""From a finished episode to its :class:`~cradle.types.TaskResult`: the final screen and
state, the checker's verdict, what the episode cost, and ``verdict.json`` in its run folder.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

from cradle.errors import CradleError, RunStorageError
from cradle.tasks.checks import judge
from cradle.tasks.setup import EpisodePlace
from cradle.trajectory.format import VERDICT_FILE
from cradle.trajectory.recorder import RunRecorder, write_atomic
from cradle.types import RunResult, Task, TaskResult

if TYPE_CHECKING:
    from cradle.environment import Environment
    from cradle.episode import Episode


def display_problem(environment: Environment, place: EpisodePlace | None) -> str:
    """Why the episode's place cannot be this process's display ('' when it can): the
    environment's screen and input go to this process's ``DISPLAY``."""
    wanted = place.env.get("DISPLAY") if place is not None else None
    if not getattr(environment, "needs_display", True) or wanted is None:
        return ""
    if wanted != os.environ.get("DISPLAY"):
        return (
            f"the episode's display {wanted} is not this process's DISPLAY "
            f"({os.environ.get('DISPLAY') or 'unset'}); run each episode's process on its "
            "own display"
        )
    return ""


def totals(recorder: RunRecorder) -> dict[str, Any]:
    """The cost fields of a ``TaskResult``, from the run's totals."""
    counted = recorder.info.totals
    return {
        "steps": counted.steps,
        "model_calls": counted.model_calls,
        "tokens": counted.input_tokens + counted.output_tokens,
        "cost": round(counted.cost_usd, 6),
        "run_dir": str(recorder.folder),
    }


def judged(episode: Episode, task: Task, ran: RunResult | None, base: TaskResult) -> TaskResult:
    """The result of a finished loop: judged, unless the setup failed, the environment never
    came up or the user stopped the episode."""
    assert episode.recorder is not None and episode.place is not None
    info = episode.recorder.info
    done = base.model_copy(
        update={**totals(episode.recorder), "status": info.status, "reason": info.reason}
    )
    if episode.setup_error:
        return done.model_copy(update={"stage": "setup", "error": episode.setup_error})
    if ran is None or ran.status == "interrupted" or episode.screen is None:
        return done.model_copy(update={"stage": "episode", "error": info.reason})
    final = episode.final_screen()
    if final is not None:
        with contextlib.suppress(CradleError, OSError):
            episode.recorder.save_final_screenshot(final)
    state = _state(episode.environment)
    verdict = judge(task, episode.place, final_screen=final, state=lambda: state)
    # A task with no checks (an instruction of cradle run --tasks-file) has only the claim.
    success = verdict.success if task.check else info.status == "done"
    return done.model_copy(
        update={
            "success": success,
            "checks": verdict.checks,
            "stage": verdict.stage,
            "error": verdict.error,
        }
    )


def _state(environment: Environment) -> dict[str, Any]:
    try:
        state = environment.state()
    except Exception:  # noqa: BLE001 - a state() that fails fails the state checks only
        return {}
    return state if isinstance(state, dict) else {}


def write_verdict(recorder: RunRecorder, result: TaskResult) -> None:
    """``verdict.json`` beside run.json: the run folder alone tells the fact."""
    with contextlib.suppress(RunStorageError):  # the result is returned either way
        write_atomic(recorder.folder / VERDICT_FILE, result.model_dump_json(indent=2) + "\n")
