"""Assembles a run from settings: environment, model, skills, prompts, memory, recorder.

The CLI and tests both go through ``Session``, so what a test exercises is what a user runs.
Checks that need no side effects (unknown environment, missing key, unreachable memory
server) happen before the run folder is created; from then on, every way the run ends is
written to run.json.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from cradle.actions import ActionRunner
from cradle.agent import Agent, AgentSettings, RunResult
from cradle.budget import Budget, load_prices, price_for
from cradle.environment import Environment, load_environment
from cradle.errors import ConfigError, CradleError, EnvironmentFailure, RunStorageError
from cradle.inputs import check_text
from cradle.llm.base import ModelProvider
from cradle.llm.openai_provider import OpenAIProvider
from cradle.modules import LongTermMemory, Memory, PreviousStep
from cradle.paths import shared_skills_dir
from cradle.perception import Perceiver
from cradle.policy import ActionPolicy, Confirmer, ConfirmMode, default_confirmer
from cradle.progress import Progress, SilentProgress
from cradle.prompts import PromptLibrary
from cradle.screen.base import Screen
from cradle.screen.dry_run import DryRunScreen
from cradle.secrets import SecretStore
from cradle.signals import Stopped, deferred, stop_of, stop_signals
from cradle.skills.stats import SkillStats
from cradle.trajectory.format import RunInfo
from cradle.trajectory.recorder import RunRecorder, new_run_id
from cradle.types import StepRecord
from cradle.versions import versions


class ModelSettings(BaseModel):
    """Where the model is served. Holds the *name* of the key variable, never the key."""

    model: str = "gpt-4o"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    azure_endpoint: str | None = None
    azure_api_version: str | None = None
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    image_format: Literal["jpeg", "png"] = "jpeg"
    price_in: float | None = Field(default=None, ge=0, description="$ per 1M input tokens")
    price_out: float | None = Field(default=None, ge=0, description="$ per 1M output tokens")
    prices_file: Path | None = None

    def provider(self) -> OpenAIProvider:
        return OpenAIProvider(
            model=self.model,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            azure_endpoint=self.azure_endpoint,
            azure_api_version=self.azure_api_version,
            timeout=self.timeout,
            max_retries=self.max_retries,
            image_format=self.image_format,
        )


class MemorySettings(BaseModel):
    """Long-term memory: embedded folder (default), a Chroma server, or none."""

    enabled: bool = True
    memory_dir: Path | None = None
    memory_url: str | None = None
    continue_without: bool = Field(
        default=False, description="Run without long-term memory when the store is unusable"
    )
    recall_k: int = Field(default=3, ge=0)
    window: int = Field(default=5, ge=0)


class SafetySettings(BaseModel):
    dry_run: bool = False
    confirm: ConfirmMode = "risky"
    allow_skills: list[str] | None = None
    deny_skills: list[str] = Field(default_factory=list)
    secrets_file: Path | None = None


class SessionSettings(BaseModel):
    env: str
    task: str
    runs_dir: Path = Path("runs")
    generated_skills_dir: Path | None = Path("generated_skills")
    """Where accepted model-written skills are saved; None keeps them inside the run folder."""
    model: ModelSettings = Field(default_factory=ModelSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    env_options: dict[str, Any] = Field(default_factory=dict)
    stats_path: Path | None = None
    """Skill statistics file; None means the default under the user's data folder."""
    skill_stats: bool = True
    """Count skill calls and successes across runs (off for the demo's canned run)."""
    skills_top_k: int = Field(default=8, ge=1)


def open_long_term(settings: MemorySettings, environment: str) -> tuple[Any, str]:
    """The vector store (or None) and a warning to show when running without it."""
    if not settings.enabled:
        return None, ""
    from cradle.memory import open_memory

    try:
        return open_memory(settings.memory_dir, settings.memory_url, environment=environment), ""
    except CradleError as exc:
        if not settings.continue_without:
            raise
        return None, f"running without long-term memory: {exc}"


class Session:
    """One run of one task: build everything, run the agent, tear everything down."""

    def __init__(
        self,
        settings: SessionSettings,
        *,
        model: ModelProvider | None = None,
        progress: Progress | None = None,
        long_term: LongTermMemory | None = None,
        confirmer: Confirmer | None = None,
    ) -> None:
        self.settings = settings
        check_text(settings.task, "the task")  # a run records it as UTF-8 JSON
        self.environment: Environment = load_environment(settings.env, **settings.env_options)
        self.model: ModelProvider = model or settings.model.provider()
        self.progress = progress or SilentProgress()
        self.secrets = SecretStore.from_sources(file=settings.safety.secrets_file)
        self.secrets.also_redact("api_key", os.environ.get(settings.model.api_key_env))
        self.budget = self._budget()
        self.confirmer = confirmer if confirmer is not None else default_confirmer()
        self.warnings: list[str] = []
        self.store: Any = None
        if long_term is None:
            self.store, warning = open_long_term(settings.memory, settings.env)
            if warning:
                self.warnings.append(warning)
        self.long_term: LongTermMemory | None = long_term or self.store
        self.recorder: RunRecorder | None = None

    def _budget(self) -> Budget:
        s = self.settings
        table = load_prices(s.model.prices_file) if s.model.prices_file else None
        price = price_for(
            self.model.model_name, table=table,
            price_in=s.model.price_in, price_out=s.model.price_out,
        )
        return Budget(
            max_seconds=s.agent.max_seconds,
            max_tokens=s.agent.max_tokens,
            max_cost=s.agent.max_cost,
            price=price,
        )

    def _run_info(self) -> RunInfo:
        s = self.settings
        return RunInfo(
            run_id=new_run_id(s.env, s.task),
            task=s.task,
            environment=s.env,
            model=self.model.model_name,
            mode=s.agent.mode,
            settings=s.model_dump(mode="json", exclude={"task", "env"}),
            versions=versions(),
        )

    def _policy(self) -> ActionPolicy:
        safety = self.settings.safety
        env = self.environment
        allow = set(safety.allow_skills) if safety.allow_skills is not None else None
        if env.allowed_skills is not None:
            allow = set(env.allowed_skills) if allow is None else allow & set(env.allowed_skills)
        return ActionPolicy(
            confirm=safety.confirm,
            risky_skills=frozenset(env.risky_skills),
            allow=frozenset(allow) if allow is not None else None,
            deny=frozenset(safety.deny_skills) | frozenset(env.denied_skills),
            confirmer=self.confirmer,
        )

    def build_actions(
        self, screen: Screen, run_id: str, folder: Path, perceiver: Perceiver | None
    ) -> ActionRunner:
        """The skills of this run, bound to its screen, policy, secrets and statistics."""
        s = self.settings
        shared = shared_skills_dir()
        actions = ActionRunner.load(
            screen=screen,
            folders=[shared, *self.environment.skill_folders()],
            generated_dir=s.generated_skills_dir or folder / "generated_skills",
            run_id=run_id,
            extras={"environment": self.environment, "perceiver": perceiver},
            stats=SkillStats(s.stats_path) if s.skill_stats else None,
            policy=self._policy(),
            secrets=self.secrets,
            dry_run=s.safety.dry_run,
        )
        always_on = [skill.name for skill in actions.registry
                     if Path(skill.source_file).resolve().parent == shared.resolve()]
        index = self.store.skills if self.store is not None else None
        if index is None:
            try:
                from cradle.memory import default_embedder
                from cradle.skills.ranking import InMemorySkillIndex

                index = InMemorySkillIndex(default_embedder("auto"))
            except CradleError:
                index = None
        if index is not None:
            from cradle.skills.ranking import SkillRanker

            actions.ranker = SkillRanker(index, always_on=always_on, top_k=s.skills_top_k)
        return actions

    @stop_signals()
    def run(self) -> RunResult:
        """Start a new run folder and run the task in it."""
        folder = self.settings.generated_skills_dir
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self.close()
                raise ConfigError(
                    f"cannot use --generated-skills-dir {folder}: {exc.strerror or exc}"
                ) from None
        return self.drive(RunRecorder.create(self.settings.runs_dir, self._run_info()))

    @stop_signals()
    def drive(
        self,
        recorder: RunRecorder,
        *,
        first_step: int = 1,
        history: Sequence[StepRecord] = (),
        prepare: Callable[[Screen, ActionRunner, Perceiver | None], None] | None = None,
    ) -> RunResult:
        """Run the loop, recording into ``recorder``.

        A resumed run passes the steps already recorded (``history``: memory and
        self-reflection continue from them), the number of its next step, and ``prepare``,
        which restores the screen before the model is asked anything. SIGINT, SIGTERM and
        SIGHUP end the run as interrupted (cradle/signals.py), also before the loop starts.
        """
        s = self.settings
        self.recorder = recorder
        try:
            try:
                screen: Screen = self.environment.start()
            except EnvironmentFailure as exc:
                self.recorder.finish("environment_failure", exc.exit_code, str(exc))
                return RunResult("environment_failure", exc.exit_code, str(exc),
                                 recorder.info.totals.steps, str(self.recorder.folder))
            if s.safety.dry_run:
                screen = DryRunScreen(screen)
            perceiver = self.environment.perceiver()
            actions = self.build_actions(
                screen, self.recorder.run_id, self.recorder.folder, perceiver
            )
            if prepare is not None:
                prepare(screen, actions, perceiver)
            memory = Memory(
                window=s.memory.window, long_term=self.long_term, recall_k=s.memory.recall_k
            )
            memory.preload(list(history))
            prompt_dirs = [p for p in [self.environment.prompt_folder()] if p]
            agent = Agent(
                screen=screen,
                model=self.model,
                actions=actions,
                prompts=PromptLibrary(prompt_dirs),
                recorder=self.recorder,
                memory=memory,
                settings=s.agent,
                progress=self.progress,
                notes=self.environment.notes,
                perceiver=perceiver,
                budget=self.budget,
                redact=self.secrets.redact if self.secrets else None,
            )
            if history:
                agent.set_previous(PreviousStep.of(history[-1]))
            return agent.run(s.task, first_step=first_step)
        except Exception as exc:
            # A bug in cradle or a skill shows its traceback, an error raised on purpose (a
            # bad setting, an unwritable run folder) one line; either way the run folder must
            # not look resumable-and-running.
            if self.recorder.info.status == "running":
                code, reason = ((exc.exit_code, str(exc)) if isinstance(exc, CradleError)
                                else (1, f"internal error: {type(exc).__name__}: {exc}"))
                with contextlib.suppress(RunStorageError):  # the first error is the news
                    self.recorder.finish("failed", code, reason)
            raise
        except KeyboardInterrupt as exc:  # stopped outside the loop's own handling
            return self._stopped(stop_of(exc))
        finally:
            with deferred():  # a second signal must not leave the app or listeners behind
                self.close()

    def _stopped(self, stop: Stopped) -> RunResult:
        """The run's result after a stop: interrupted, unless it had already ended."""
        assert self.recorder is not None
        if self.recorder.info.status == "running":
            self.recorder.finish("interrupted", stop.exit_code, stop.reason)
        info = self.recorder.info
        code = stop.exit_code if info.exit_code is None else info.exit_code
        return RunResult(info.status, code, info.reason, info.totals.steps,
                         str(self.recorder.folder))

    def close(self) -> None:
        for closer in (self.environment.close, self.model.close,
                       getattr(self.store, "close", None)):
            if closer is None:
                continue
            try:
                closer()
            except Exception as exc:  # noqa: BLE001 - tearing down must not hide the result
                print(f"cradle: while closing: {exc}", file=sys.stderr)
