"""One episode: one task in one environment, from a fresh start to the end of its loop.

An :class:`Episode` is the per-run half of a run (the long-lived half is the
:class:`~cradle.runtime.Runtime`): the task, the environment and its screen, the recorder
and run folder, the budget, and the episode's own folder of model-written skills. That
folder lives inside the run folder, so two episodes that exist at the same time never see
each other's new skills; when an episode ends its skills can be *promoted* into the shared
``--generated-skills-dir`` (:mod:`cradle.skills.promotion`). ``cradle run`` is one episode
and promotes on any end, as skills were saved the moment they were accepted before episodes
had folders of their own; :func:`cradle.task_episode.run_task` runs a task as an episode,
judges it and promotes only when the checker passed. What the agent works with (actions,
perceiver, memory) is built by :mod:`cradle.episode_parts`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import Field

from cradle.agent import Agent, AgentSettings
from cradle.budget import Budget
from cradle.computer_use.base import ActionPlanner
from cradle.computer_use.factory import build_planner
from cradle.environment import Environment, load_environment
from cradle.episode_parts import action_policy, build_actions, episode_memory
from cradle.episode_skills import GENERATED_DIR, episode_perceiver
from cradle.errors import ConfigError, CradleError, EnvironmentFailure, RunStorageError, SetupFailed
from cradle.gate.policy import ActionPolicy
from cradle.gate.runner import ActionRunner
from cradle.inputs import check_text
from cradle.llm.base import ModelProvider
from cradle.modules import PreviousStep
from cradle.perception import Perceiver
from cradle.progress import Progress, SilentProgress
from cradle.runtime import Runtime, RuntimeSettings
from cradle.screen.base import Screen
from cradle.screen.compose import episode_screen
from cradle.signals import Stopped, deferred, stop_of, stop_signals
from cradle.skills.promotion import Promotion, promote
from cradle.tasks.setup import EpisodePlace
from cradle.trajectory.format import RunInfo
from cradle.trajectory.recorder import RunRecorder, new_run_id
from cradle.types import RunResult, StepRecord, Task

PLACE_DIR = "place"
"""The episode's own home and temp folders, inside its run folder (``own_place``)."""

Prepare = Callable[[Screen, ActionRunner, Perceiver | None], None]
"""Runs on the started screen before the first step (resume restores the screen with it)."""


class EpisodeSettings(RuntimeSettings):
    """A run's settings as run.json records them (``cradle run --resume`` reads them back)."""

    env: str
    task: str
    task_id: str | None = None
    """The id of the task file's task this episode runs, if any."""
    runs_dir: Path = Path("runs")
    env_options: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def for_task(
        cls, base: RuntimeSettings, task: Task, runs_dir: Path, agent: AgentSettings | None = None
    ) -> EpisodeSettings:
        """``base`` with the task's own: environment, options, instruction, ``max_steps`` and
        ``timeout`` (the wall-time budget; a smaller one already in ``base`` still holds)."""
        loop = agent or base.agent
        fields = base.model_dump(exclude={"agent"})
        fields.update(
            env=task.environment,
            task=task.instruction,
            task_id=task.id,
            runs_dir=runs_dir,
            env_options=dict(task.env_options),
            agent={
                **loop.model_dump(),
                "max_steps": task.max_steps,
                "max_seconds": min(task.timeout, loop.max_seconds or task.timeout),
            },
        )
        return cls.model_validate(fields)


class Episode:
    """One run of one task from a runtime; see the module docstring."""

    def __init__(
        self,
        runtime: Runtime,
        settings: EpisodeSettings,
        *,
        task: Task | None = None,
        place: EpisodePlace | None = None,
        own_place: bool = False,
        environment: Environment | None = None,
        model: ModelProvider | None = None,
        progress: Progress | None = None,
        owns_runtime: bool = False,
        planner: ActionPlanner | None = None,
    ) -> None:
        check_text(settings.task, "the task")  # a run records it as UTF-8 JSON
        self.runtime = runtime
        self.settings = settings
        self.task = task
        """With a task, the environment starts with ``reset(task, place)`` (its setup)."""
        self.place = place
        """The episode's home, temp folder and display; None until the run folder exists when
        ``own_place`` asks for a private one inside it."""
        self.own_place = own_place and place is None
        """Without a ``place``: make one inside the run folder (on this process's display)
        when :meth:`create_recorder` makes that folder, instead of using this process's home."""
        self.environment = environment or load_environment(settings.env, **settings.env_options)
        self.model = model or runtime.model
        self.progress = progress or SilentProgress()
        self.owns_runtime = owns_runtime
        """Close the runtime with the episode (``cradle run``: one runtime, one episode)."""
        agent = settings.agent
        self.budget = Budget(
            max_seconds=agent.max_seconds,
            max_tokens=agent.max_tokens,
            max_cost=agent.max_cost,
            price=runtime.price,
        )
        self.recorder: RunRecorder | None = None
        self.screen: Screen | None = None
        self.setup_error = ""
        """Why the task's setup failed ('' when it did not, or there was none)."""
        self.promotion: Promotion | None = None
        self._closed = False
        self.planner = (
            planner
            if planner is not None
            else build_planner(settings, confirmer=runtime.confirmer, environment=settings.env)
        )
        """The episode's own planner (it holds the conversation), or None: the model plans."""

    @property
    def generated_dir(self) -> Path | None:
        """This episode's own skills folder (inside its run folder)."""
        return self.recorder.folder / GENERATED_DIR if self.recorder is not None else None

    # ------------------------------------------------------------------ building

    def run_info(self) -> RunInfo:
        s = self.settings
        return RunInfo(
            run_id=new_run_id(s.env, s.task_id or s.task),
            task=s.task,
            environment=s.env,
            model=self.model.model_name,
            mode=s.agent.mode,
            settings=s.model_dump(mode="json", exclude={"task", "env"}),
            versions=_versions(),
        )

    def policy(self) -> ActionPolicy:
        """The run's safety settings narrowed by what the environment allows and denies."""
        return action_policy(self.settings.safety, self.environment, self.runtime.confirmer)

    def build_actions(self, screen: Screen, perceiver: Perceiver | None) -> ActionRunner:
        """The skills of this episode, bound to its screen (see
        :func:`~cradle.episode_parts.build_actions`)."""
        assert self.recorder is not None
        return build_actions(
            self.runtime,
            self.settings,
            self.environment,
            self.recorder,
            screen=screen,
            perceiver=perceiver,
            home=self.place.home if self.place is not None else None,
        )

    def _agent(
        self, screen: Screen, history: Sequence[StepRecord], prepare: Prepare | None
    ) -> Agent:
        s = self.settings
        assert self.recorder is not None
        perceiver = episode_perceiver(
            self.environment, vision=s.agent.vision, planned=self.planner is not None
        )
        actions = self.build_actions(screen, perceiver)
        if prepare is not None:
            prepare(screen, actions, perceiver)
        agent = Agent(
            screen=screen,
            model=self.model,
            actions=actions,
            prompts=self.runtime.prompts(self.environment),
            recorder=self.recorder,
            memory=episode_memory(self.runtime, s, s.env, history),
            settings=s.agent,
            progress=self.progress,
            notes=self.environment.notes,
            perceiver=perceiver,
            budget=self.budget,
            redact=self.runtime.secrets.redact,
            planner=self.planner,
        )
        if history:
            agent.set_previous(PreviousStep.of(history[-1]))
        return agent

    def _start(self) -> Screen:
        """A fresh start: the task's reset (with its setup) or a plain start, on the
        environment's screen with the episode's wrappers around it."""
        if self.task is not None:
            place = self.place or EpisodePlace.current()
            try:
                screen = self.environment.reset(self.task, place)
            except SetupFailed as exc:
                self.setup_error = str(exc)
                raise
        else:
            screen = self.environment.start()
        screen = episode_screen(
            screen,
            keep_focus=self.environment.focus_keeper(),
            dry_run=self.settings.safety.dry_run,
        )
        self.screen = screen
        return screen

    # ------------------------------------------------------------------ running

    def create_recorder(self) -> RunRecorder:
        """Make the run folder (after checking the shared skills folder can be used), and the
        episode's own place in it when it has none."""
        try:
            folder = self.settings.generated_skills_dir
            if folder is not None:
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise ConfigError(
                        f"cannot use --generated-skills-dir {folder}: {exc.strerror or exc}"
                    ) from None
            recorder = RunRecorder.create(self.settings.runs_dir, self.run_info())
            if self.own_place:
                self.place = EpisodePlace.create(
                    recorder.folder / PLACE_DIR, display=os.environ.get("DISPLAY")
                )
            return recorder
        except BaseException:
            self.close(promote=False)
            raise

    @stop_signals()
    def run(self) -> RunResult:
        """Start a new run folder, run the task in it and close the episode."""
        return self.drive(self.create_recorder())

    @stop_signals()
    def drive(
        self,
        recorder: RunRecorder,
        *,
        first_step: int = 1,
        history: Sequence[StepRecord] = (),
        prepare: Prepare | None = None,
    ) -> RunResult:
        """:meth:`loop`, then close the episode (promoting its skills whatever the end)."""
        try:
            return self.loop(recorder, first_step=first_step, history=history, prepare=prepare)
        finally:
            with deferred():  # a second signal must not leave the app or listeners behind
                self.close(promote=True)

    @stop_signals()
    def loop(
        self,
        recorder: RunRecorder,
        *,
        first_step: int = 1,
        history: Sequence[StepRecord] = (),
        prepare: Prepare | None = None,
    ) -> RunResult:
        """Start the environment and run the loop, recording into ``recorder``; the
        environment stays up (for the checker) until :meth:`close`.

        A resumed run passes the steps already recorded (``history``: memory and
        self-reflection continue from them), the number of its next step, and ``prepare``,
        which restores the screen before the model is asked anything. SIGINT, SIGTERM and
        SIGHUP end the run as interrupted (cradle/signals.py), also before the loop starts.
        """
        self.recorder = recorder
        try:
            try:
                screen = self._start()
            except EnvironmentFailure as exc:
                recorder.finish("environment_failure", exc.exit_code, str(exc))
                return RunResult(
                    "environment_failure",
                    exc.exit_code,
                    str(exc),
                    recorder.info.totals.steps,
                    str(recorder.folder),
                )
            agent = self._agent(screen, history, prepare)
            return agent.run(self.settings.task, first_step=first_step)
        except Exception as exc:
            # A bug in cradle or a skill shows its traceback, an error raised on purpose (a
            # bad setting, an unwritable run folder) one line; either way the run folder must
            # not look resumable-and-running.
            if recorder.info.status == "running":
                code, reason = (
                    (exc.exit_code, str(exc))
                    if isinstance(exc, CradleError)
                    else (1, f"internal error: {type(exc).__name__}: {exc}")
                )
                with contextlib.suppress(RunStorageError):  # the first error is the news
                    recorder.finish("failed", code, reason)
            raise
        except KeyboardInterrupt as exc:  # stopped outside the loop's own handling
            return self.stopped(stop_of(exc))

    def refuse(self, recorder: RunRecorder, reason: str) -> None:
        """End the run before it starts because its place cannot be used (``reason``): a
        setup failure, recorded as the environment's."""
        self.setup_error = reason
        recorder.finish("environment_failure", SetupFailed.exit_code, reason)

    def stopped(self, stop: Stopped) -> RunResult:
        """The run's result after a stop: interrupted, unless it had already ended."""
        assert self.recorder is not None
        if self.recorder.info.status == "running":
            self.recorder.finish("interrupted", stop.exit_code, stop.reason)
        info = self.recorder.info
        code = stop.exit_code if info.exit_code is None else info.exit_code
        return RunResult(
            info.status, code, info.reason, info.totals.steps, str(self.recorder.folder)
        )

    def final_screen(self) -> Image.Image | None:
        """The screen as the episode left it (None when it cannot be captured)."""
        if self.screen is None:
            return None
        try:
            return self.screen.capture()
        except Exception:  # noqa: BLE001 - a dead app fails the screen check, not the harness
            return None

    # ------------------------------------------------------------------ ending

    def close(self, *, promote: bool = False) -> None:
        """Close the environment, promote the episode's skills when asked (and a shared
        folder is set), and close the runtime if this episode owns it. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        _quietly(self.environment.close)
        if self.planner is not None:
            _quietly(self.planner.close)
        if promote:
            _quietly(self.promote)
        if self.owns_runtime:
            self.runtime.close()

    def promote(self) -> Promotion | None:
        """Copy this episode's accepted skills into the shared generated-skills folder."""
        own, shared = self.generated_dir, self.settings.generated_skills_dir
        if own is None or shared is None or self.recorder is None:
            return None
        self.promotion = promote(own, shared, run_id=self.recorder.run_id, task=self.settings.task)
        for reason in self.promotion.refused:
            self.progress.warn(f"skill not promoted: {reason}")
        return self.promotion


def _quietly(closer: Callable[[], object]) -> None:
    try:
        closer()
    except Exception as exc:  # noqa: BLE001 - tearing down must not hide the result
        print(f"cradle: while closing: {exc}", file=sys.stderr)


def _versions() -> dict[str, str]:
    from cradle.versions import versions

    return versions()


def open_episode(
    settings: EpisodeSettings,
    *,
    model: ModelProvider | None = None,
    progress: Progress | None = None,
    long_term: Any = None,
    confirmer: Any = None,
    planner: ActionPlanner | None = None,
    grounder: Any = None,
) -> Episode:
    """One runtime and one episode that owns it (``cradle run``). Checks that need no side
    effects come first (bad task text, unknown environment or option), before the model
    client or the memory store is opened."""
    check_text(settings.task, "the task")
    environment = load_environment(settings.env, **settings.env_options)
    runtime = Runtime(
        settings,
        model=model,
        long_term=long_term,
        confirmer=confirmer,
        grounder=grounder,
        # e.g. running without the memory it could not open
        on_warning=progress.warn if progress is not None else None,
    )
    try:
        return Episode(
            runtime,
            settings,
            environment=environment,
            progress=progress,
            owns_runtime=True,
            planner=planner,
        )
    except BaseException:
        runtime.close()
        raise
