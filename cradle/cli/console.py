"""Live progress on the terminal: step, subtask, actions, model calls and tokens."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from cradle.bounds import shorten
from cradle.errors import EXIT_CODES
from cradle.types import ModelCall, RunResult, StepRecord

SHOWN_CHARS = 300
"""Longest text printed for one item (an action, an error, a subtask): the step record keeps
more, and the terminal is for following a run, not for reading a 10 MB reply."""

_STATUS_STYLE = {
    "ok": "green",
    "rejected": "yellow",
    "failed": "red",
    "skipped": "dim",
    "planned": "cyan",
}


class ConsoleProgress:
    """Prints one block per step to stderr, so stdout stays free for machine output."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]warning[/yellow] {_shown(message, 3 * SHOWN_CHARS)}")

    def step_started(self, step: int) -> None:
        self.console.print(f"[bold]step {step}[/bold]")

    def model_called(self, call: ModelCall) -> None:
        self.calls += 1
        self.input_tokens += call.input_tokens
        self.output_tokens += call.output_tokens
        if call.response_mode == "scripted":
            self.console.print(f"  [dim]model[/dim]  {call.module:<22} scripted reply")
            return
        if call.request_failed:  # no reply: the error says why (a refused format, a timeout)
            self.console.print(
                f"  [dim]model[/dim]  {call.module:<22} [yellow]failed[/yellow] "
                f"{call.latency_ms:,.0f} ms: {_shown(call.error)}"
            )
            return
        tokens = (
            f"{call.input_tokens:,} in / {call.output_tokens:,} out"
            if call.input_tokens or call.output_tokens
            else "no usage reported"
        )
        self.console.print(
            f"  [dim]model[/dim]  {call.module:<22} {tokens}  {call.latency_ms:,.0f} ms"
        )

    def step_finished(self, record: StepRecord) -> None:
        if record.task_inference:
            self.console.print(f"  subtask  {_shown(record.task_inference.subtask)}")
        for outcome in record.actions:
            style = _STATUS_STYLE.get(outcome.status, "default")  # "[]..[/]" is bad markup
            error = f": {_shown(outcome.error)}" if outcome.error else ""
            self.console.print(
                f"  act    [{style}]{outcome.status:<8}[/{style}] {_shown(outcome.source)}{error}"
            )
        for skill in record.new_skills:
            verdict = "added" if skill.get("accepted") else "rejected"
            detail = ", ".join(skill.get("names", [])) or skill.get("reason", "")
            self.console.print(f"  skill  {verdict}: {_shown(detail)}")
        for error in record.errors:
            self.console.print(f"  [red]error[/red]  {_shown(error)}")
        self.cost_usd += sum(call.cost_usd for call in record.model_calls)
        cost = f", ${self.cost_usd:.4f}" if self.cost_usd else ""
        self.console.print(
            f"  [dim]total  {self.calls} model calls, {self.input_tokens:,} tokens in, "
            f"{self.output_tokens:,} out{cost}[/dim]"
        )

    def run_finished(self, result: RunResult) -> None:
        meaning = EXIT_CODES.get(result.exit_code, "")
        style = "green" if result.exit_code == 0 else "red"
        self.console.print(
            f"[{style}]{result.status}[/{style}] after {result.steps} step(s): "
            f"{_shown(result.reason, 3 * SHOWN_CHARS)} (exit {result.exit_code}: {meaning})"
        )
        self.console.print(f"run folder: {result.run_dir}")


def _shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """Model or outside text as printed: shortened, then escaped (``[`` is rich markup)."""
    return escape(shorten(text, limit))
