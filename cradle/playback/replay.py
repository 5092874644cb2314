"""Replay a recorded run without a model: re-execute its successful actions on a live screen.

The actions go through the same skill registry and the same ``CoordinateMap`` as in the run:
each recorded action is in pixels of the image the model saw (``observation.image_size``), and
the map is built with the *live* screen's geometry, so a replay on another resolution or HiDPI
factor still lands on the same place of the picture. Grounded skills (``click_text``,
``click_image``, ``click_label``) are simply executed again: they perceive the live screen.

Before each step the screen is left to settle (:mod:`cradle.screen.settle`) and compared
with the screenshot recorded at that step. Past the threshold the replay stops with
``ReplayDiverged`` and saves the live frame in ``replay-<timestamp>/`` inside the run, next to
a ``replay.json`` summary: a replay that no longer matches the recording never goes on
silently clicking at the wrong things.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from PIL import Image

from cradle.environment import Environment
from cradle.episode_skills import episode_perceiver, episode_skills
from cradle.errors import (
    EXIT_DONE,
    EXIT_FAILURE,
    ActionRejected,
    CradleError,
    TrajectoryError,
)
from cradle.gate.runner import ActionRunner
from cradle.perception import Perceiver, Perception
from cradle.screen.base import Screen
from cradle.screen.compose import episode_screen
from cradle.screen.mapping import CoordinateMap
from cradle.screen.settle import frame_difference, wait_until_settled
from cradle.trajectory.loader import LoadedRun
from cradle.types import StepRecord, utc_now

DEFAULT_THRESHOLD = 0.005
"""Default largest fraction of changed pixels (see ``settle.frame_difference``) still a match."""


class ReplayDiverged(CradleError):
    """The live screen no longer matches the recording, or a recorded action failed."""

    exit_code = EXIT_FAILURE


@dataclass(frozen=True)
class ReplayOptions:
    """How strictly and how fast to replay."""

    threshold: float = DEFAULT_THRESHOLD
    """Largest screen difference (fraction of pixels) accepted before a step."""
    timeout: float = 10.0
    """Seconds to wait for the screen to settle before a step (then it is compared anyway)."""
    speed: float = 1.0
    """Divides ``min_delay``; nothing else (settling decides the pace)."""
    min_delay: float = 0.0
    """Seconds to wait at least before each step, e.g. to watch a replay."""
    settle_frames: int = 2
    settle_interval: float = 0.05
    action_timeout: float = 30.0
    check: bool = True
    """Compare the screen before each step; off only for debugging a replay."""

    @property
    def delay(self) -> float:
        return self.min_delay / self.speed if self.speed > 0 else self.min_delay


@dataclass(frozen=True)
class Divergence:
    """Where the replay stopped: the step, how different the screens were, both images."""

    step: int
    difference: float
    threshold: float
    recorded: str
    live: str

    def message(self) -> str:
        return (
            f"replay diverged before step {self.step}: the screen differs by "
            f"{self.difference:.4f} (threshold {self.threshold:g}); recorded {self.recorded}, "
            f"live {self.live}"
        )


@dataclass
class ReplayReport:
    """What a replay did; written as replay.json when the replay has an output folder."""

    run_dir: str
    steps_checked: int = 0
    actions_replayed: int = 0
    differences: list[tuple[int, float]] = field(default_factory=list)
    unchecked: list[int] = field(default_factory=list)
    """Steps whose recorded screenshot was missing, so they could not be compared."""
    divergence: Divergence | None = None
    failure: str = ""
    output_dir: str = ""

    @property
    def ok(self) -> bool:
        return self.divergence is None and not self.failure

    @property
    def exit_code(self) -> int:
        return EXIT_DONE if self.ok else EXIT_FAILURE

    def reason(self) -> str:
        if self.divergence is not None:
            return self.divergence.message()
        if self.failure:
            return self.failure
        return (
            f"replayed {self.actions_replayed} action(s) over {self.steps_checked} step(s); "
            "the screen matched the recording at every step"
        )

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["ok"] = self.ok
        data["reason"] = self.reason()
        return json.dumps(data, indent=2) + "\n"


def new_output_dir(run: LoadedRun) -> Path:
    """``replay-<timestamp>`` inside the run (microseconds keep two replays apart)."""
    return run.folder / f"replay-{utc_now().strftime('%Y%m%d-%H%M%S-%f')}"


class Replayer:
    """Replays one loaded run on one live screen with one action runner."""

    def __init__(
        self,
        run: LoadedRun,
        screen: Screen,
        actions: ActionRunner,
        *,
        options: ReplayOptions | None = None,
        perceiver: Perceiver | None = None,
        output_dir: Path | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.run = run
        self.screen = screen
        self.actions = actions
        self.options = options or ReplayOptions()
        self.perceiver = perceiver
        self.output_dir = output_dir or new_output_dir(run)
        self._on_event = on_event or (lambda line: None)

    # ------------------------------------------------------------------ helpers

    def _save_live(self, step: int, frame: Image.Image) -> Path:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / f"step-{step:04d}-live.png"
        frame.save(path, format="PNG", compress_level=1)
        return path

    def _check(self, record: StepRecord, frame: Image.Image, report: ReplayReport) -> bool:
        """Compare the live frame with the recording; False (and a divergence) when too far."""
        recorded = self.run.screenshot(record)
        if recorded is None:
            report.unchecked.append(record.step)
            self._on_event(f"step {record.step}: recorded screenshot missing; not compared")
            return True
        with Image.open(recorded) as image:
            difference = frame_difference(image, frame)
        report.steps_checked += 1
        report.differences.append((record.step, round(difference, 6)))
        if difference <= self.options.threshold:
            return True
        live = self._save_live(record.step, frame)
        report.divergence = Divergence(
            step=record.step,
            difference=round(difference, 6),
            threshold=self.options.threshold,
            recorded=str(recorded),
            live=str(live),
        )
        return False

    def _perception(self, record: StepRecord, frame: Image.Image) -> Perception | None:
        """Fresh perception of the live frame, for grounding skills that read it."""
        if self.perceiver is None:
            return None
        size = tuple(record.observation.image_size)
        shown = frame if frame.size == size else frame.resize(size, Image.Resampling.LANCZOS)
        return self.perceiver.perceive(frame, shown, CoordinateMap(size, self.screen.geometry))

    def _curate(self, record: StepRecord) -> None:
        """Skills the model wrote during the run, loaded at the step they were accepted."""
        for verdict in record.new_skills:
            if not verdict.get("accepted") or not isinstance(verdict.get("source"), str):
                continue
            try:
                self.actions.registry.add_untrusted(
                    verdict["source"], origin={"run_id": self.run.info.run_id, "replay": True}
                )
            except ActionRejected:
                continue  # already loaded from the generated-skills folder

    def write(self, report: ReplayReport) -> ReplayReport:
        """``report`` as written to replay.json in the output folder (which it names)."""
        written = replace(report, output_dir=str(self.output_dir))
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / "replay.json").write_text(written.to_json(), encoding="utf-8")
        return written

    # ------------------------------------------------------------------ the replay

    def replay(self, *, until_step: int | None = None) -> ReplayReport:
        """Replay steps up to ``until_step`` (all by default); never raises for a divergence."""
        options = self.options
        report = ReplayReport(run_dir=str(self.run.folder))
        for record in self.run.steps:
            if until_step is not None and record.step > until_step:
                break
            settled = wait_until_settled(
                self.screen.capture,
                frames=options.settle_frames,
                interval=options.settle_interval,
                timeout=options.timeout,
                min_delay=options.delay,
            )
            if options.check and not self._check(record, settled.frame, report):
                return report
            self._curate(record)
            todo = [a for a in record.actions if a.status == "ok"]
            if not todo:
                continue
            mapping = CoordinateMap(tuple(record.observation.image_size), self.screen.geometry)
            perception = self._perception(record, settled.frame)
            for action in todo:
                outcome = self.actions.run(
                    [action.source],
                    mapping=mapping,
                    timeout=options.action_timeout,
                    perception=perception,
                )[0]
                if outcome.status != "ok":
                    self._save_live(record.step, self.screen.capture())
                    report.failure = (
                        f"step {record.step}: recorded action {action.source} {outcome.status} "
                        f"on replay: {outcome.error}"
                    )
                    return report
                report.actions_replayed += 1
            self._on_event(f"step {record.step}: {len(todo)} action(s) replayed")
        return report


def settings_from_run(run: LoadedRun, **overrides: Any) -> Any:
    """The ``EpisodeSettings`` a run was started with (task and environment from run.json)."""
    from pydantic import ValidationError

    from cradle.episode import EpisodeSettings

    recorded = {k: v for k, v in run.info.settings.items() if k != "resumed"}
    data = {**recorded, "env": run.info.environment, "task": run.info.task, **overrides}
    try:
        return EpisodeSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise TrajectoryError(
            f"{run.folder}/run.json: settings cannot be used again ({where}: {first['msg']})"
        ) from None


def load_actions(run: LoadedRun, screen: Screen, environment: Environment) -> ActionRunner:
    """The run's skills as the live episode had them (the shared and environment folders,
    the shared generated folder it was given and its own), with its perceiver, bound to
    ``screen``; no grounding model (replay asks no model)."""
    from cradle.computer_use.factory import uses_planner

    settings = settings_from_run(run)
    perceiver = episode_perceiver(
        environment, vision=settings.agent.vision, planned=uses_planner(settings)
    )
    skills = episode_skills(
        environment,
        run_folder=run.folder,
        run_id=run.info.run_id,
        shared_generated=settings.generated_skills_dir,
        perceiver=perceiver,
    )
    own = skills.generated_dir
    return ActionRunner(
        registry=skills.registry,
        screen=screen,
        generated_dir=own if own.is_dir() else None,
        run_id=run.info.run_id,
        episode=skills.episode,
    )


def replay_run(
    run: LoadedRun,
    *,
    env: str | None = None,
    options: ReplayOptions | None = None,
    on_event: Callable[[str], None] | None = None,
    env_options: dict[str, Any] | None = None,
) -> ReplayReport:
    """Start the run's environment (or ``env``), replay every step, write replay.json.

    ``EnvironmentFailure`` passes through (exit 5); a divergence or failed action is in the
    returned report (exit 1), with the live frame saved next to replay.json.
    """
    from cradle.environment import load_environment

    name = env or run.info.environment
    recorded_options = run.info.settings.get("env_options") or {}
    environment = load_environment(name, **{**recorded_options, **(env_options or {})})
    screen = episode_screen(environment.start(), keep_focus=environment.focus_keeper())
    try:
        actions = load_actions(run, screen, environment)
        replayer = Replayer(
            run,
            screen,
            actions,
            options=options,
            perceiver=actions.episode.perceiver,
            on_event=on_event,
        )
        return replayer.write(replayer.replay())
    finally:
        screen.release_all()
        environment.close()


def restore_screen(
    run: LoadedRun,
    screen: Screen,
    actions: ActionRunner,
    *,
    perceiver: Perceiver | None = None,
    options: ReplayOptions | None = None,
) -> ReplayReport:
    """Re-apply a run's ok actions to a fresh screen (resume of a mocked environment)."""
    replayer = Replayer(run, screen, actions, options=options, perceiver=perceiver)
    report = replayer.replay()
    return report if report.ok else replayer.write(report)
