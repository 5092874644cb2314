"""Tasks as data (instruction, environment, setup, checks) and the verdicts on them."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cradle.types.base import Record
from cradle.types.steps import RunStatus


class TaskRecord(BaseModel):
    """Base for task-file objects: strict, so a misspelt key is an error naming it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FileContent(TaskRecord):
    path: str = Field(min_length=1, description="'~' is the episode's own home folder")
    content: str = Field(max_length=1_000_000)


class LaunchApp(TaskRecord):
    command: str = Field(min_length=1)
    window: str | None = Field(default=None, description="regex of the window title to await")
    timeout: float = Field(default=20.0, gt=0, le=300)

    @field_validator("window")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _compiles(value)


class SetupStep(TaskRecord):
    """One of: ``run`` (shell command), ``file`` (write it), ``launch`` (start an app and await
    its window), ``sleep`` (seconds)."""

    run: str | None = None
    file: FileContent | None = None
    launch: LaunchApp | None = None
    sleep: float | None = Field(default=None, ge=0, le=60)

    @property
    def kind(self) -> str:
        return _only_kind(self, ("run", "file", "launch", "sleep"))

    @model_validator(mode="after")
    def _one_kind(self) -> SetupStep:
        _only_kind(self, ("run", "file", "launch", "sleep"))
        return self


class FileCheck(TaskRecord):
    """A file that must exist, with optional conditions on its content."""

    path: str = Field(min_length=1)
    contains: str | None = None
    regex: str | None = None
    equals: str | None = None
    json_subset: Any = Field(
        default=None,
        alias="json",
        description="a JSON value the file's JSON must contain",
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _compiles(value)


class Check(TaskRecord):
    """One of: ``command`` (exit 0 passes), ``file``, ``screen_text`` (read by OCR on the final
    screen), ``state`` (a subset of the environment's own ``state()``)."""

    command: str | None = None
    file: FileCheck | None = None
    screen_text: str | None = None
    state: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        return _only_kind(self, ("command", "file", "screen_text", "state"))

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        _only_kind(self, ("command", "file", "screen_text", "state"))
        return self


class TaskNeeds(TaskRecord):
    """What an episode of the task needs from the machine that runs it: on a Ray cluster
    these are the resources it is scheduled by (cradle.eval.cluster)."""

    display: bool | None = Field(
        default=None,
        description="a virtual display; None: whatever its environment needs",
    )
    cpus: float = Field(default=1.0, gt=0, le=256)


class Task(TaskRecord):
    """A task as data: what to do, where, how to start, how to judge, how to solve it.

    ``check`` may be empty only for a task made in memory from a bare instruction
    (``cradle run --tasks-file``): task files must judge (the loader refuses ``check: []``),
    and an unchecked task passes when the model declares it done, which is only a claim."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    instruction: str = Field(min_length=1, max_length=10_000)
    environment: str = Field(min_length=1)
    env_options: dict[str, Any] = Field(default_factory=dict)
    setup: list[SetupStep] = Field(default_factory=list, max_length=50)
    check: list[Check] = Field(max_length=50)
    max_steps: int = Field(default=15, ge=1, le=500)
    timeout: float = Field(default=300.0, gt=0, le=24 * 3600)
    reference: list[list[str]] = Field(default_factory=list, max_length=200)
    needs: TaskNeeds = Field(default_factory=TaskNeeds)
    source: str = Field(default="", exclude=True, description="file the task came from")


class CheckResult(Record):
    kind: str
    passed: bool
    detail: str = ""


class Verdict(Record):
    """The checker's word on an episode: the fact, where the model's "done" is a claim."""

    success: bool
    checks: list[CheckResult] = Field(default_factory=list)
    stage: Literal["setup", "episode", "check", "done"] = "done"
    """Where it was decided: a failed setup or a crashed episode fails the task there."""
    error: str | None = None


Stage = Literal["setup", "episode", "check", "done"]


class TaskResult(Record):
    """One task run as an episode and judged: one line of ``cradle eval``'s results.jsonl.

    ``success`` and ``checks`` are the verdict; ``status`` is how the episode itself ended
    (``done`` means the model *claimed* it was done). ``stage`` says where a failure was
    decided: ``setup`` (no model call was made), ``episode`` (it crashed or was stopped
    before it could be judged), ``check`` (a check could not run) or ``done`` (judged).
    """

    id: str
    environment: str = ""
    success: bool
    stage: Stage = "done"
    status: RunStatus | Literal["not_started"] = "not_started"
    reason: str = ""
    """Why the episode ended as it did (run.json's reason), e.g. the step limit was reached."""
    checks: list[CheckResult] = Field(default_factory=list)
    steps: int = 0
    model_calls: int = 0
    tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0
    run_dir: str = ""
    error: str | None = None

    @property
    def verdict(self) -> Verdict:
        return Verdict(success=self.success, checks=self.checks, stage=self.stage, error=self.error)


def _only_kind(record: BaseModel, kinds: tuple[str, ...]) -> str:
    given = [k for k in kinds if getattr(record, k) is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {', '.join(kinds)}")
    return given[0]


def _compiles(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
    return pattern
