"""The loop: observe, decide, act, record. Nothing else lives here.

Each step captures the screen, asks the model (one call per module, or one fused call),
executes the planned skill calls, and appends the step to the trajectory before the next one
starts. Every way a run can end maps to a status and an exit code in one place (``_finish``).
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from PIL import Image
from pydantic import BaseModel, Field

from cradle.bounds import TEXT_LIMIT, bound_output, bound_step, shorten
from cradle.budget import Budget
from cradle.computer_use.base import ActionPlanner
from cradle.computer_use.factory import PlannerSettings
from cradle.decide import Tidy, decide
from cradle.errors import (
    EXIT_BUDGET,
    EXIT_DONE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_MODEL,
    CradleError,
    EnvironmentFailure,
    ModelError,
    ModelReplyError,
    RunInterrupted,
    RunStorageError,
)
from cradle.gate.runner import ActionRunner
from cradle.llm.base import ModelProvider
from cradle.llm.images import downscale
from cradle.modules import Memory, PreviousStep, StepContext
from cradle.observing import PendingPerception, observation_of
from cradle.perception import Perceiver, Perception
from cradle.progress import Progress, SilentProgress
from cradle.prompts import PromptLibrary
from cradle.screen.base import Screen
from cradle.screen.mapping import CoordinateMap
from cradle.screen.settle import Settled, wait_until_settled
from cradle.signals import check_stop, deferred, stop_of
from cradle.skills.parser import DEFAULT_MAX_ACTIONS, MAX_PLAN_ACTIONS
from cradle.trajectory.recorder import RunRecorder
from cradle.types import (
    ActionOutcome,
    ModelCall,
    Observation,
    RunResult,
    RunStatus,
    StepRecord,
    utc_now,
)

M = TypeVar("M", bound=BaseModel)


class AgentSettings(BaseModel):
    """How the loop runs; every field has a default a user can override from the CLI."""

    mode: Literal["modular", "fused", "computer-use"] = Field(
        default="fused",
        description="modular: one call per module; fused: one call for all; "
        "computer-use: the planner alone decides each step (one call per step)",
    )
    max_steps: int = Field(default=20, ge=1)
    max_image_side: int = Field(default=1280, ge=64)
    action_timeout: float = Field(default=30.0, gt=0)
    settle_seconds: float = Field(
        default=1.0,
        ge=0,
        description="Longest wait, before each capture, for the screen to come to rest after "
        "the last actions (so a repaint is not mistaken for an unchanged screen); 0 captures "
        "at once",
    )
    max_failed_steps: int = Field(
        default=3,
        ge=1,
        description="Consecutive failed steps before the run stops with exit 4. A step fails "
        "when the model's reply stays unusable after the repair retry, or when every action "
        "it planned was rejected as invalid (not a skill call, unknown skill, bad arguments).",
    )
    max_seconds: float | None = Field(default=None, gt=0, description="Wall-time budget")
    max_tokens: int | None = Field(default=None, ge=1, description="Token budget (in + out)")
    max_cost: float | None = Field(default=None, gt=0, description="Cost budget in US dollars")
    max_actions: int = Field(
        default=DEFAULT_MAX_ACTIONS,
        ge=1,
        le=MAX_PLAN_ACTIONS,
        description="Actions run from one plan; the rest are refused with the reason, which "
        "the model reads in the next prompt",
    )
    vision: bool = Field(
        default=True,
        description="Send the screenshot to the model; false (--no-vision) for a model without "
        "image input, which reads the screen text and the element list in its prompt instead",
    )
    planner: PlannerSettings = Field(
        default_factory=PlannerSettings,
        description="Who plans the actions: the general model, or a computer-use model "
        "(cradle.computer_use.factory)",
    )
    idle_skips: int = Field(
        default=3,
        ge=0,
        description="Consecutive steps that repeat a wait without asking the model, while the "
        "screen stays identical after a successful wait (0: always ask)",
    )


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


def _all_invalid(outcomes: list[ActionOutcome]) -> bool:
    """True when actions were planned and none parsed as a skill call (a failed step)."""
    return bool(outcomes) and all(o.status == "rejected" and o.call is None for o in outcomes)


@dataclass(frozen=True)
class _IdlePlan:
    """The outputs of the last decided step, repeated by an idle step without a model call."""

    last: StepRecord

    def with_inputs(self, ctx: StepContext) -> StepContext:
        last = self.last
        plan = last.action_planning
        assert plan is not None
        ctx = ctx.with_output("action_planning", plan)
        for name in ("information_gathering", "task_inference"):
            output = getattr(last, name)
            if output is not None:
                ctx = ctx.with_output(name, output)
        return ctx


def image_digest(image: Image.Image) -> str:
    """A cheap fingerprint of the pixels, to tell whether the screen changed (~3 ms at 1080p)."""
    return f"{image.size[0]}x{image.size[1]}:{zlib.crc32(image.tobytes()):08x}"


class Agent:
    """Runs one task on one screen with one model; data lives in the objects passed in."""

    def __init__(
        self,
        *,
        screen: Screen,
        model: ModelProvider,
        actions: ActionRunner,
        prompts: PromptLibrary,
        recorder: RunRecorder,
        memory: Memory | None = None,
        settings: AgentSettings | None = None,
        progress: Progress | None = None,
        notes: Callable[[], list[str]] | None = None,
        perceiver: Perceiver | None = None,
        budget: Budget | None = None,
        redact: Callable[[str], str] | None = None,
        planner: ActionPlanner | None = None,
    ) -> None:
        self.screen = screen
        self.model = model
        self.actions = actions
        self.prompts = prompts
        self.recorder = recorder
        self.memory = memory or Memory()
        self.settings = settings or AgentSettings()
        self.progress = progress or SilentProgress()
        self._notes = notes or (lambda: [])
        self.perceiver = perceiver
        self.budget = budget or Budget(
            max_seconds=self.settings.max_seconds, max_tokens=self.settings.max_tokens
        )
        self._redact = redact
        self.planner = planner
        """Plans the actions instead of the general model (``cradle.computer_use``)."""
        self._perception: Perception | None = None
        self._last_view: tuple[Image.Image, str, str] | None = None
        self._last_digest: str | None = None
        self._last_frame: Image.Image | None = None
        self._previous: PreviousStep | None = None
        self._failed_steps = 0
        self._last_record: StepRecord | None = None
        self._idle_streak = 0

    # ------------------------------------------------------------------ one step

    def _observe(
        self, step: int, clock: Stopwatch
    ) -> Callable[[], tuple[Observation, Image.Image, CoordinateMap]]:
        """Capture the frame and start perceiving it on a worker thread; the call returned
        joins it and gives the observation, the image shown and its map (cradle.observing)."""
        frame, settled = self._capture()
        clock.lap("capture")
        digest = image_digest(frame)
        clock.lap("digest")
        changed = digest != self._last_digest or self._last_view is None
        self._last_digest = digest
        pending, view = None, self._last_view
        if changed:
            # Unchanged screens reuse the last step's image, file and perception: no resize,
            # no PNG, no OCR.
            self._last_view = None  # until this frame's view is complete
            shown = downscale(frame, self.settings.max_image_side)
            clock.lap("downscale")
            if self.perceiver is not None:
                pending = PendingPerception(
                    self.perceiver, frame, shown, CoordinateMap(shown.size, self.screen.geometry)
                )
            view = (shown, self.recorder.save_screenshot(f"step-{step:04d}", frame), "")
            clock.lap("screenshot")

        def finish() -> tuple[Observation, Image.Image, CoordinateMap]:
            assert view is not None
            shown, path, marks_path = view
            if pending is not None:
                self._perception = pending.result()
                if self._perception.image is not shown:
                    shown = self._perception.image
                    marks_path = self.recorder.save_screenshot(f"step-{step:04d}-marks", shown)
                clock.lap("perceive")
            self._last_view = (shown, path, marks_path)
            seen = observation_of(
                step,
                frame,
                shown,
                changed=changed,
                settled=settled,
                paths=(path, marks_path),
                perception=self._perception,
                scrub=self._scrub,
                notes=self._notes(),
            )
            return seen, shown, CoordinateMap(shown.size, self.screen.geometry)

        return finish

    def _capture(self) -> tuple[Image.Image, Settled | None]:
        """The screen once it is at rest after the last actions, waiting at most
        ``settle_seconds``: two equal captures ``screen.settle_interval`` apart, or four while
        it still equals the last step's screen (the app may not have begun to repaint; a
        screen with no interval draws before input returns, so it needs no such wait)."""
        if self.settings.settle_seconds <= 0:
            return self.screen.capture(), None
        interval = self.screen.settle_interval
        settled = wait_until_settled(
            self.screen.capture,
            frames=2,
            tolerance=0.0,
            interval=interval,
            timeout=self.settings.settle_seconds,
            unchanged=self._last_frame,
            unchanged_frames=4 if interval > 0 else 0,
        )
        self._last_frame = settled.frame
        return settled.frame, settled

    def _scrub(self, text: str) -> str:
        """Screen text with secret values redacted: the model never reads a secret back."""
        return self._redact(text) if self._redact is not None else text

    def step(self, task: str, step: int) -> StepRecord:
        """Run one full step and record it; returns the record (``done`` says if finished)."""
        started = utc_now()
        self.progress.step_started(step)
        clock = Stopwatch()
        observed = self._observe(step, clock)  # perceiving meanwhile, on a worker thread
        errors: list[str] = [f"skill file: {p}" for p in self.actions.refresh()]
        subtask = self._previous.subtask if self._previous else ""
        skills = self.actions.describe(query=f"{task} {subtask}")
        clock.lap("skills")
        recall = self.memory.recall(task, subtask)
        clock.lap("memory_recall")
        observation, shown, mapping = observed()
        ctx = StepContext(
            task=task,
            step=step,
            image=shown,
            observation=observation,
            memory=recall,
            skills=skills,
            vision=self.settings.vision,
            previous=self._previous,
        )
        calls: list[ModelCall] = []
        outcomes = []
        new_skills: list[dict] = []
        model_error: ModelError | None = None
        idle = self._idle_reuse(observation, errors)
        if idle is not None:
            ctx = idle.with_inputs(ctx)
            self._idle_streak += 1
        else:
            self._idle_streak = 0
            try:
                ctx = decide(
                    self.settings.mode,
                    ctx,
                    self.model,
                    self.prompts,
                    calls,
                    self.progress,
                    self._tidy(errors),
                    planner=self.planner,
                )
            except ModelError as exc:
                model_error = exc
                errors.append(f"model: {exc}")
            clock.lap("decide")
        if ctx.skill_curation is not None and ctx.skill_curation.new_skills:
            new_skills = self.actions.curate(ctx.skill_curation.new_skills, task=task)
            clock.lap("curate")
        plan = ctx.action_planning
        if plan is not None:
            outcomes = self.actions.run(
                plan.actions,
                mapping=mapping,
                timeout=self.settings.action_timeout,
                deadline=self.budget.deadline(),
                perception=self._perception,
                max_actions=self.settings.max_actions,
            )
            clock.lap("actions")
            for call in self.actions.take_model_calls():  # the grounder's, asked by skills
                calls.append(call)
                self.progress.model_called(call)
            if _all_invalid(outcomes):
                errors.append("no usable action: every planned action was rejected as invalid")
        calls = [self._priced(call) for call in calls]
        timings = {
            **clock.laps,
            "total": clock.total(),
            "model": round(sum(call.latency_ms for call in calls), 3),
        }
        record = StepRecord(
            run_id=self.recorder.run_id,
            step=step,
            mode=self.settings.mode,
            started_at=started,
            ended_at=utc_now(),
            observation=observation,
            memory=ctx.memory,
            information_gathering=ctx.information_gathering,
            self_reflection=ctx.self_reflection,
            task_inference=ctx.task_inference,
            skill_curation=ctx.skill_curation,
            action_planning=plan,
            actions=outcomes,
            new_skills=new_skills,
            model_calls=calls,
            errors=errors,
            done=bool(plan and plan.done),
            timings_ms=timings,
            model_skipped=idle is not None,
        )
        record = bound_step(self._redacted(record))  # redacted first: no half secrets
        self.recorder.append_step(record)
        self.memory.record(task, record)
        if self._previous is not None and ctx.self_reflection is not None:
            self.actions.judge(self._previous.outcomes, ctx.self_reflection)
        self._previous = PreviousStep.of(record)
        self._last_record = record
        self.progress.step_finished(record)
        if model_error is not None:
            raise model_error
        if _all_invalid(record.actions) and not record.done:
            raise ModelReplyError(record.errors[-1])
        return record

    def _idle_reuse(self, observation: Observation, errors: list[str]) -> _IdlePlan | None:
        """The last step's wait plan, when asking the model again could not tell it more.

        Safe only when nothing the model would read has changed: the last step was a model
        decision to wait (only ``wait(...)`` calls, at least one: an empty plan is not a
        decision to wait), not done, every action ran ok, no skill was proposed and nothing
        went wrong; the screen is pixel-identical and the environment's notes are the same.
        Then its inputs differ only in the step number, so the loop runs the same wait again
        instead of paying a call, at most ``idle_skips`` times in a row; after that, or on
        any change, the model is asked as usual.
        """
        last = self._last_record
        if (
            self.settings.idle_skips <= self._idle_streak
            or last is None
            or errors
            or self.planner is not None  # its call ids need answering every step
            or observation.changed
            or last.errors
            or last.done
            or last.new_skills
            or not last.actions
            or observation.notes != last.observation.notes
        ):
            return None
        plan = last.action_planning
        if plan is None or plan.done or not last.model_calls and not last.model_skipped:
            return None
        if any(
            o.status != "ok" or o.call is None or o.call.skill != "wait" for o in last.actions
        ) or len(last.actions) != len(plan.actions):
            return None
        return _IdlePlan(last)

    def _redacted(self, output: M) -> M:
        """``output`` with secret values redacted (parsed again only when one was found)."""
        if self._redact is None:
            return output
        text = output.model_dump_json()
        redacted = self._redact(text)
        return output if redacted == text else type(output).model_validate_json(redacted)

    def _tidy(self, notes: list[str]) -> Tidy:
        """Module outputs as the later modules of a step read them: redacted, then bounded
        (lists cut short are reported in ``notes``, the step's errors). The plan is read by
        no later prompt and runs as the model wrote it; its record is bounded."""

        def tidy(name: str, output: BaseModel) -> BaseModel:
            if name == "action_planning":
                return output
            return bound_output(self._redacted(output), name, notes)

        return tidy

    def _priced(self, call: ModelCall) -> ModelCall:
        """Count the call against the budget and put its cost on the record."""
        before = self.budget.cost
        self.budget.add(call.input_tokens, call.output_tokens)
        cost = self.budget.cost - before
        return call.model_copy(update={"cost_usd": round(cost, 8)}) if cost else call

    def set_previous(self, previous: PreviousStep) -> None:
        """What the last recorded step did, so a resumed run reflects on it."""
        self._previous = previous

    # ------------------------------------------------------------------ the run

    def run(self, task: str, *, first_step: int = 1) -> RunResult:
        """Run until the model says done, a budget runs out, or something stops the run."""
        step = first_step - 1
        try:
            while step < first_step - 1 + self.settings.max_steps:
                check_stop()
                step += 1
                try:
                    record = self.step(task, step)
                    self._failed_steps = 0
                    if record.done:
                        return self._finish(
                            "done", EXIT_DONE, "the model declared the task done", step
                        )
                except ModelReplyError as exc:
                    self._failed_steps += 1
                    if self._failed_steps >= self.settings.max_failed_steps:
                        return self._finish(
                            "model_failure",
                            EXIT_MODEL,
                            f"{self._failed_steps} steps in a row without a usable model reply; "
                            f"last: {exc}",
                            step,
                        )
                exceeded = self.budget.exceeded()
                if exceeded:
                    return self._finish("budget_exhausted", EXIT_BUDGET, exceeded, step)
            return self._finish(
                "budget_exhausted",
                EXIT_BUDGET,
                f"max steps ({self.settings.max_steps}) reached before the task was done",
                step,
            )
        except KeyboardInterrupt as exc:  # Ctrl+C, SIGTERM, SIGHUP, the stop hotkey
            stop = stop_of(exc)
            return self._finish("interrupted", stop.exit_code, stop.reason, step)
        except RunInterrupted as exc:
            return self._finish("interrupted", EXIT_INTERRUPTED, str(exc), step)
        except ModelError as exc:
            return self._finish("model_failure", EXIT_MODEL, str(exc), step)
        except EnvironmentFailure as exc:
            return self._finish("environment_failure", exc.exit_code, str(exc), step)
        except CradleError as exc:
            return self._finish("failed", exc.exit_code or EXIT_FAILURE, str(exc), step)
        finally:
            with deferred():  # a second signal must not leave keys held
                self.screen.release_all()
                self.actions.flush_stats()

    def _finish(self, status: RunStatus, code: int, reason: str, step: int) -> RunResult:
        if self._redact is not None:
            reason = self._redact(reason)
        reason = shorten(reason, TEXT_LIMIT)
        try:
            self.recorder.finish(status, code, reason)
        except RunStorageError as exc:  # run.json could not be written: say so, stop anyway
            return RunResult(
                "failed",
                exc.exit_code,
                str(exc),
                self.recorder.info.totals.steps,
                str(self.recorder.folder),
            )
        info = self.recorder.info  # a storage fault during the run overrides the status
        status, code, reason = info.status, info.exit_code or code, info.reason
        try:
            self.memory.finish_run(
                self.recorder.info.task,
                self.recorder.run_id,
                status == "done",
                f"{status} after {self.recorder.info.totals.steps} step(s): {reason}",
            )
        except CradleError as exc:  # the run's record is complete; memory is best effort now
            self.recorder.info.reason += f" (long-term memory not updated: {exc})"
            with contextlib.suppress(RunStorageError):  # the final status is already written
                self.recorder.write_info()
        steps = self.recorder.info.totals.steps
        return RunResult(status, code, reason, steps, str(self.recorder.folder))
