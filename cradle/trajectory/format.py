"""The run folder format.

```
<runs-dir>/<run-id>/
  run.json            RunInfo: task, environment, model, settings, versions, status
  trajectory.jsonl    one StepRecord per line, appended and flushed when the step ends
  screenshots/        step-0001.png ... (the capture at device resolution)
```
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from cradle.types import Record, RunStatus, StepRecord, utc_now

RUN_FILE = "run.json"
TRAJECTORY_FILE = "trajectory.jsonl"
SCREENSHOTS_DIR = "screenshots"
VERDICT_FILE = "verdict.json"
"""A judged task's result (``TaskResult``): the checker's verdict, beside run.json."""
FINAL_SCREENSHOT = "final"
"""``screenshots/final.png``: the screen a judged task ended on (what ``screen_text`` read)."""
FORMAT_VERSION = 1


class RunTotals(Record):
    steps: int = 0
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    actions_ok: int = 0
    actions_failed: int = 0
    cost_usd: float = 0.0

    def add(self, record: StepRecord) -> None:
        """Count one recorded step (the recorder while running, the loader afterwards)."""
        self.steps += 1
        self.model_calls += len(record.model_calls)
        self.input_tokens += record.input_tokens
        self.output_tokens += record.output_tokens
        self.cost_usd = round(self.cost_usd + sum(c.cost_usd for c in record.model_calls), 6)
        self.actions_ok += sum(1 for a in record.actions if a.status == "ok")
        self.actions_failed += sum(1 for a in record.actions if a.status in ("failed", "rejected"))


class RunInfo(Record):
    """What run.json holds. Never a secret: settings are filtered before they get here."""

    format_version: int = FORMAT_VERSION
    run_id: str
    task: str
    environment: str
    model: str
    mode: str
    settings: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    started_at: datetime = Field(default_factory=utc_now)
    ended_at: datetime | None = None
    status: RunStatus = "running"
    exit_code: int | None = None
    reason: str = ""
    totals: RunTotals = Field(default_factory=RunTotals)
