"""Continue an interrupted run in its own folder, or rerun a run with its recorded replies.

Resume reads run.json (task, environment, mode, settings), reopens the recorder on the same
folder in append mode, refills the memory window from the recorded steps and runs the loop from
the step after the last complete one. The step budget counts the steps already done.

Resume re-executes nothing by itself: on the real desktop the apps are still where the killed
run left them. A mocked environment, however, starts fresh in memory; for those (see
:func:`starts_fresh`) the recorded ok actions are first re-applied without a model, through the
replay machinery, with the same screen check as ``cradle replay``, so the loop continues on the
screen the recording ended with. If that screen cannot be restored, resume stops before any
model call (``ReplayDiverged``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from cradle.errors import EXIT_BUDGET, UsageError
from cradle.llm.base import ModelProvider
from cradle.playback.replay import (
    ReplayDiverged,
    ReplayOptions,
    restore_screen,
    settings_from_run,
)
from cradle.progress import Progress, SilentProgress
from cradle.trajectory.loader import LoadedRun, load_run
from cradle.trajectory.recorder import RunRecorder
from cradle.types import MemoryItem, RunResult, StepRecord, utc_now


def starts_fresh(environment: Any) -> bool:
    """Whether the environment's app starts from scratch each time (mocked, in memory).

    An environment may say so with a ``starts_fresh`` attribute; otherwise one that reports a
    ``state()`` right after ``start()`` is taken to be an in-memory app (the mocked ones are),
    while the real desktop reports none and keeps its apps across a crash of cradle.
    """
    declared = getattr(environment, "starts_fresh", None)
    if isinstance(declared, bool):
        return declared
    try:
        return bool(environment.state())
    except Exception:  # noqa: BLE001 - a state() that fails says nothing about freshness
        return False


def resume_session(
    run_dir: Path | str,
    *,
    model_settings: Any = None,
    model: ModelProvider | None = None,
    max_steps: int | None = None,
    restore: bool | None = None,
    replay_options: ReplayOptions | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Continue the run in ``run_dir`` from its last complete step; returns the final result.

    ``model_settings`` (a ``ModelSettings``) replaces the recorded one (the key is read from
    the environment variable it names, as in a new run); ``model`` replaces the provider
    altogether (tests). ``max_steps`` is the total budget, steps already done included.
    ``restore`` forces (True) or skips (False) re-applying recorded actions first.
    """
    from cradle.episode import open_episode

    run = load_run(run_dir)
    if run.info.status == "done":
        raise UsageError(
            f"run {run.info.run_id} already finished (done); resume continues unfinished runs only"
        )
    settings, total = resumed_settings(run, model_settings=model_settings, max_steps=max_steps)
    # Fails on a missing key or an unreachable memory server before the folder is touched.
    episode = open_episode(settings, model=model, progress=progress or SilentProgress())
    recorder = _reopen(run, settings, episode.model.model_name, total)
    if total <= run.last_step:
        reason = f"max steps ({total}) already used by the {run.last_step} recorded step(s)"
        recorder.finish("budget_exhausted", EXIT_BUDGET, reason)
        episode.close()
        return RunResult(
            "budget_exhausted", EXIT_BUDGET, reason, run.info.totals.steps, str(run.folder)
        )

    def prepare(screen: Any, actions: Any, perceiver: Any) -> None:
        if not (restore if restore is not None else starts_fresh(episode.environment)):
            return
        report = restore_screen(run, screen, actions, perceiver=perceiver, options=replay_options)
        if not report.ok:
            message = f"cannot restore the screen to resume: {report.reason()}"
            recorder.finish("failed", ReplayDiverged.exit_code, message)
            raise ReplayDiverged(message)

    return episode.drive(recorder, first_step=run.last_step + 1, history=run.steps, prepare=prepare)


def resumed_settings(
    run: LoadedRun, *, model_settings: Any = None, max_steps: int | None = None
) -> tuple[Any, int]:
    """The settings the resumed episode runs with, validated once from the recorded ones
    and the overrides, and the run's total step budget. The episode's own step budget is
    what the total leaves after the recorded steps (the total itself when nothing is left,
    so run.json keeps saying what was allowed)."""
    total = max_steps if max_steps is not None else settings_from_run(run).agent.max_steps
    remaining = total - run.last_step
    agent = {
        **run.info.settings.get("agent", {}),
        "max_steps": remaining if remaining > 0 else total,
    }
    overrides: dict[str, Any] = {"agent": agent}
    if model_settings is not None:
        overrides["model"] = model_settings
    return settings_from_run(run, **overrides), total


def _reopen(run: LoadedRun, settings: Any, model_name: str, total: int) -> RunRecorder:
    """The run's recorder, appending, with run.json saying it was resumed and with what.
    Its step budget stays the run's total (the episode runs with what is left of it), so a
    second resume counts from the same total."""
    info = run.info
    recorded = settings.model_dump(mode="json", exclude={"task", "env"})
    recorded["agent"] = {**recorded.get("agent", {}), "max_steps": total}
    info.settings = {
        **recorded,
        "resumed": [
            *info.settings.get("resumed", []),
            {"at": utc_now().isoformat(), "after_step": run.last_step, "model": model_name},
        ],
    }
    info.totals = run.totals()
    return RunRecorder.reopen(run.folder, info)


class RecordedRecall:
    """Long-term memory for a rerun: each step recalls what the recorded step recalled.

    The store has changed since the run (it remembers the run itself now), so asking it again
    would change the prompts; the recorded recall keeps the rerun deterministic. Nothing is
    remembered.
    """

    def __init__(self, run: LoadedRun) -> None:
        self._recalls = [list(step.memory.long_term) for step in run.steps]

    def recall(self, query: str, *, k: int) -> list[MemoryItem]:
        return self._recalls.pop(0)[:k] if self._recalls else []

    def remember_step(self, task: str, record: StepRecord) -> None:
        return None

    def remember_run(self, task: str, run_id: str, summary: str, success: bool) -> None:
        return None


def rerun_with_model_replies(
    run_dir: Path | str,
    *,
    runs_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[RunResult, Any]:
    """Run the recorded task again in a NEW run folder, answered by the recorded replies.

    No network: the model is a :class:`~cradle.llm.replayed.ReplayedModel`. Skills the model
    writes are kept inside the new run folder (never added to the shared generated-skills
    folder), and not counted in the skill statistics. Returns the result and the episode
    (``episode.environment.state()`` for tests).
    """
    from cradle.computer_use.factory import uses_planner
    from cradle.episode import open_episode
    from cradle.llm.replayed import ReplayedModel

    run = load_run(run_dir)
    if run.info.model == "human":
        raise UsageError(
            f"run {run.info.run_id} is a human demonstration: it has no model replies; "
            "replay it without --model-replies"
        )
    with tempfile.TemporaryDirectory(prefix="cradle-replay-") as scratch:
        settings = settings_from_run(
            run,
            runs_dir=runs_dir if runs_dir is not None else run.folder.parent,
            generated_skills_dir=None,
            # A rerun must not count towards the user's skill statistics.
            stats_path=Path(scratch) / "skill-stats.json",
        )
        model = ReplayedModel.from_run(run)
        planner = None
        if uses_planner(settings):  # the planner's replies are played back too
            from cradle.computer_use.replayed import ReplayedPlanner

            planner = ReplayedPlanner.from_run(run)
        grounder = None
        if settings.grounding.base_url:  # the grounding model's replies are played back too
            from cradle.computer_use.grounding import replayed_grounder

            grounder = replayed_grounder(run.steps, settings.grounding)
        episode = open_episode(
            settings,
            model=model,
            progress=progress,
            long_term=RecordedRecall(run),
            planner=planner,
            grounder=grounder,
        )
        return episode.run(), episode
