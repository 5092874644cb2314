"""The loop: observe, decide, act, record. Nothing else lives here.

Each step looks at the screen (``cradle.observer``), has a decider fill in the module outputs
(``cradle.decide``: the model, one call per module or one fused call, a planner, or the idle
repeat of a wait), executes the planned skill calls, and appends the step to the trajectory
before the next one starts. Every way a run can end maps to a status and an exit code in one
place (``_finish``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, Field

from cradle.bounds import TEXT_LIMIT, bound_output, bound_step, shorten
from cradle.budget import Budget
from cradle.computer_use.base import ActionPlanner
from cradle.computer_use.factory import PlannerSettings
from cradle.computer_use.step import PlannerDecider
from cradle.decide import Decider, Decision, IdleRepeat, ModelDecider, Tidy, record_calls
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
from cradle.modules import Memory, PreviousStep, StepContext
from cradle.observer import Observer, Seen
from cradle.perception import Perceiver
from cradle.progress import Progress, SilentProgress
from cradle.prompts import PromptLibrary
from cradle.screen.base import Screen
from cradle.signals import check_stop, deferred, stop_of
from cradle.skills.parser import DEFAULT_MAX_ACTIONS, MAX_PLAN_ACTIONS
from cradle.stopwatch import Stopwatch
from cradle.trajectory.recorder import RunRecorder
from cradle.types import (
    ActionOutcome,
    Mode,
    ModelCall,
    RunResult,
    RunStatus,
    StepRecord,
    utc_now,
)

M = TypeVar("M", bound=BaseModel)


class AgentSettings(BaseModel):
    """How the loop runs; every field has a default a user can override from the CLI."""

    mode: Mode = Field(
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


def _all_invalid(outcomes: list[ActionOutcome]) -> bool:
    """True when actions were planned and none parsed as a skill call (a failed step)."""
    return bool(outcomes) and all(o.status == "rejected" and o.call is None for o in outcomes)


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
        self.actions = actions
        self.recorder = recorder
        self.memory = memory or Memory()
        self.settings = settings = settings or AgentSettings()
        self.progress = progress = progress or SilentProgress()
        self.budget = budget or Budget(
            max_seconds=settings.max_seconds, max_tokens=settings.max_tokens
        )
        self._redact = redact
        self.observer = Observer(
            screen,
            recorder,
            perceiver=perceiver,
            max_image_side=settings.max_image_side,
            settle_seconds=settings.settle_seconds,
            scrub=self._scrub,
            notes=notes or (lambda: []),
        )
        self.decider: Decider = (
            PlannerDecider(planner, settings.mode, model, prompts, progress)
            if planner is not None  # plans the actions instead of the general model
            else ModelDecider(settings.mode, model, prompts, progress)
        )
        # A planner's call ids need answering every step: it is never skipped.
        self.idle = IdleRepeat(0 if planner is not None else settings.idle_skips)
        self._previous: PreviousStep | None = None
        self._failed_steps = 0
        self._last_record: StepRecord | None = None

    # ------------------------------------------------------------------ one step

    def step(self, task: str, step: int) -> StepRecord:
        """Run one full step and record it; returns the record (``done`` says if finished)."""
        started = utc_now()
        self.progress.step_started(step)
        clock = Stopwatch()
        seeing = self.observer.start(step, clock)  # perceiving meanwhile, on a worker thread
        errors = [f"skill file: {p}" for p in self.actions.refresh()]
        ctx, seen = self._context(task, step, seeing, clock)
        decision = self._decide(ctx, errors, clock)
        outcomes, new_skills = self._act(decision, seen, errors, clock)
        record = self._record(started, decision, outcomes, new_skills, errors, clock)
        if decision.error is not None:
            raise decision.error
        if _all_invalid(record.actions) and not record.done:
            raise ModelReplyError(record.errors[-1])
        return record

    def _context(
        self, task: str, step: int, seeing: Callable[[], Seen], clock: Stopwatch
    ) -> tuple[StepContext, Seen]:
        """What the deciders read: skills and memories (fetched while the frame is being
        perceived), then what was seen."""
        subtask = self._previous.subtask if self._previous else ""
        skills = self.actions.describe(query=f"{task} {subtask}")
        clock.lap("skills")
        recall = self.memory.recall(task, subtask)
        clock.lap("memory_recall")
        seen = seeing()
        ctx = StepContext(
            task=task,
            step=step,
            image=seen.image,
            observation=seen.observation,
            memory=recall,
            skills=skills,
            vision=self.settings.vision,
            previous=self._previous,
        )
        return ctx, seen

    def _decide(self, ctx: StepContext, errors: list[str], clock: Stopwatch) -> Decision:
        """The idle repeat of the last wait when it applies, else the decider's decision;
        a model error is kept on the decision, so the step is still recorded."""
        repeated = self.idle.decide(ctx, self._last_record, errors)
        if repeated is not None:
            return Decision(repeated, model_skipped=True)
        decision = Decision(ctx)
        try:
            decision.ctx = self.decider.decide(ctx, decision.calls, self._tidy(errors))
        except ModelError as exc:
            decision.error = exc
            errors.append(f"model: {exc}")
        clock.lap("decide")
        return decision

    def _act(
        self, decision: Decision, seen: Seen, errors: list[str], clock: Stopwatch
    ) -> tuple[list[ActionOutcome], list[dict]]:
        """Curate the skills the model proposed, then run the plan on the screen; model calls
        the skills made (the grounder's) join the step's."""
        ctx = decision.ctx
        new_skills: list[dict] = []
        if ctx.skill_curation is not None and ctx.skill_curation.new_skills:
            new_skills = self.actions.curate(ctx.skill_curation.new_skills, task=ctx.task)
            clock.lap("curate")
        plan = ctx.action_planning
        if plan is None:
            return [], new_skills
        outcomes = self.actions.run(
            plan.actions,
            mapping=seen.mapping,
            timeout=self.settings.action_timeout,
            deadline=self.budget.deadline(),
            perception=seen.perception,
            max_actions=self.settings.max_actions,
        )
        clock.lap("actions")
        record_calls(self.actions.take_model_calls(), decision.calls, self.progress)
        if _all_invalid(outcomes):
            errors.append("no usable action: every planned action was rejected as invalid")
        return outcomes, new_skills

    def _record(
        self,
        started: datetime,
        decision: Decision,
        outcomes: list[ActionOutcome],
        new_skills: list[dict],
        errors: list[str],
        clock: Stopwatch,
    ) -> StepRecord:
        """The step, priced, timed, redacted and bounded, in the trajectory and in memory
        before the next step starts."""
        ctx = decision.ctx
        calls = [self._priced(call) for call in decision.calls]
        timings = {
            **clock.laps,
            "total": clock.total(),
            "model": round(sum(call.latency_ms for call in calls), 3),
        }
        plan = ctx.action_planning
        record = StepRecord(
            run_id=self.recorder.run_id,
            step=ctx.step,
            mode=self.settings.mode,
            started_at=started,
            ended_at=utc_now(),
            observation=ctx.observation,
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
            model_skipped=decision.model_skipped,
        )
        record = bound_step(self._redacted(record))  # redacted first: no half secrets
        self.recorder.append_step(record)
        self.memory.record(ctx.task, record)
        if self._previous is not None and ctx.self_reflection is not None:
            self.actions.judge(self._previous.outcomes, ctx.self_reflection)
        self._previous = PreviousStep.of(record)
        self._last_record = record
        self.progress.step_finished(record)
        return record

    def _scrub(self, text: str) -> str:
        """Screen text with secret values redacted: the model never reads a secret back."""
        return self._redact(text) if self._redact is not None else text

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
