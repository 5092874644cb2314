"""Live progress of an eval on stderr: a line per finished task, and on a terminal a status
line (tasks done, passing, running, time left) that redraws in place."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from cradle.bounds import shorten
from cradle.eval.jobs import EvalResult

SHOWN_CHARS = 200


class EvalProgress:
    """Reports the harness's progress; quiet but for a line per task when not a terminal."""

    def __init__(
        self, total: int, *, console: Console | None = None, live: bool | None = None
    ) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.total = total
        self.done = 0
        self.passed = 0
        self.running: dict[str, float] = {}
        self.started = time.monotonic()
        self._use_live = self.console.is_terminal if live is None else live
        self._live: Any = None

    def __enter__(self) -> EvalProgress:
        if self._use_live:
            from rich.live import Live

            self._live = Live(
                console=self.console,
                get_renderable=self.status,
                transient=True,
                refresh_per_second=2,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def note(self, message: str) -> None:
        self.console.print(f"[yellow]note[/yellow] {escape(shorten(message, 3 * SHOWN_CHARS))}")

    def task_started(self, task_id: str) -> None:
        self.running[task_id] = time.monotonic()

    def task_finished(self, result: EvalResult) -> None:
        self.running.pop(result.id, None)
        self.done += 1
        self.passed += result.success
        word = "[green]PASS[/green]" if result.success else "[red]FAIL[/red]"
        why = ""
        if not result.success:
            failed = next((c for c in result.checks if not c.passed), None)
            reason = result.error or (f"{failed.kind}: {failed.detail}" if failed else "")
            why = f": {escape(shorten(reason, SHOWN_CHARS))}" if reason else ""
        self.console.print(
            f"{word} {escape(result.id)} [dim]({self.done}/{self.total}, {result.steps} "
            f"step(s), {result.seconds:.1f} s)[/dim]{why}"
        )

    def status(self) -> Text:
        """``3/25 done, 3 passing, 2 running, ~1 min 10 s left``."""
        elapsed = time.monotonic() - self.started
        left = "estimating time left"
        if self.done:
            seconds = elapsed / self.done * (self.total - self.done)
            left = f"~{_duration(seconds)} left"
        return Text(
            f"{self.done}/{self.total} done, {self.passed} passing, "
            f"{len(self.running)} running, {left}",
            style="bold",
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
