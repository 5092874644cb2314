"""Assembles a run from settings: environment, model, skills, prompts, memory, recorder.

The CLI and tests both go through ``Session``, so what a test exercises is what a user runs.
Checks that need no side effects (unknown environment, missing key) happen before the run
folder is created; from then on, every way the run ends is written to run.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from cradle.actions import ActionRunner
from cradle.agent import Agent, AgentSettings, RunResult
from cradle.environment import Environment, load_environment
from cradle.errors import EnvironmentFailure
from cradle.llm.base import ModelProvider
from cradle.llm.openai_provider import OpenAIProvider
from cradle.modules import Memory
from cradle.paths import shared_skills_dir
from cradle.progress import Progress, SilentProgress
from cradle.prompts import PromptLibrary
from cradle.trajectory.format import RunInfo
from cradle.trajectory.recorder import RunRecorder, new_run_id
from cradle.versions import versions


class ModelSettings(BaseModel):
    """Where the model is served. Holds the *name* of the key variable, never the key."""

    model: str = "gpt-4o"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    azure_endpoint: str | None = None
    azure_api_version: str | None = None
    timeout: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    image_format: str = "jpeg"

    def provider(self) -> OpenAIProvider:
        return OpenAIProvider(
            model=self.model,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            azure_endpoint=self.azure_endpoint,
            azure_api_version=self.azure_api_version,
            timeout=self.timeout,
            max_retries=self.max_retries,
            image_format="png" if self.image_format == "png" else "jpeg",
        )


class SessionSettings(BaseModel):
    env: str
    task: str
    runs_dir: Path = Path("runs")
    generated_skills_dir: Path | None = Path("generated_skills")
    """Where accepted model-written skills are saved; None keeps them inside the run folder."""
    model: ModelSettings = Field(default_factory=ModelSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    env_options: dict[str, Any] = Field(default_factory=dict)


class Session:
    """One run of one task: build everything, run the agent, tear everything down."""

    def __init__(
        self,
        settings: SessionSettings,
        *,
        model: ModelProvider | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.environment: Environment = load_environment(settings.env, **settings.env_options)
        self.model: ModelProvider = model or settings.model.provider()
        self.progress = progress or SilentProgress()
        self.recorder: RunRecorder | None = None

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

    def run(self) -> RunResult:
        s = self.settings
        self.recorder = RunRecorder.create(s.runs_dir, self._run_info())
        try:
            screen = self.environment.start()
        except EnvironmentFailure as exc:
            self.recorder.finish("environment_failure", exc.exit_code, str(exc))
            return RunResult("environment_failure", exc.exit_code, str(exc), 0,
                             str(self.recorder.folder))
        try:
            actions = ActionRunner.load(
                screen=screen,
                folders=[shared_skills_dir(), *self.environment.skill_folders()],
                generated_dir=s.generated_skills_dir or self.recorder.folder / "generated_skills",
                run_id=self.recorder.run_id,
                extras={"environment": self.environment},
            )
            prompt_dirs = [p for p in [self.environment.prompt_folder()] if p]
            agent = Agent(
                screen=screen,
                model=self.model,
                actions=actions,
                prompts=PromptLibrary(prompt_dirs),
                recorder=self.recorder,
                memory=Memory(),
                settings=s.agent,
                progress=self.progress,
                notes=self.environment.notes,
                perceiver=self.environment.perceiver(),
            )
            return agent.run(s.task)
        finally:
            self.environment.close()
            self.model.close()
