"""Reads a run folder back: run.json, every step of trajectory.jsonl, and which files exist.

Everything downstream (replay, resume, report, video, skills from runs) reads runs through
here, so the rules about damaged runs live in one place:

* a last line cut off mid-write (a crash or ``kill -9`` while appending) is dropped with a
  warning: the recorder writes a step in one ``write`` and a newline ends it, so a partial
  last line without its newline can only be an interrupted append;
* any other bad line is a ``TrajectoryError`` naming the file, the line number and what is
  wrong, because it was edited by hand or written by something else, and guessing would hide it;
* a missing screenshot is reported per step, never a crash: the report and replay go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError

from cradle.errors import TrajectoryError
from cradle.inputs import read_text_file
from cradle.trajectory.format import (
    FORMAT_VERSION,
    RUN_FILE,
    TRAJECTORY_FILE,
    RunInfo,
    RunTotals,
)
from cradle.types import ActionOutcome, StepRecord

MAX_RUN_FILE_BYTES = 16_000_000
MAX_STEP_LINE_BYTES = 16_000_000
"""run.json holds settings and totals (a few KB); anything far larger is not one."""


@dataclass
class LoadedRun:
    """A run folder as read: its info, its complete steps and what was wrong with it."""

    folder: Path
    info: RunInfo
    steps: list[StepRecord]
    warnings: list[str] = field(default_factory=list)
    """Damage that was tolerated (a truncated last line, missing images); shown to the user."""
    missing: dict[int, list[str]] = field(default_factory=dict)
    """Step number -> relative paths of its images that are not on disk."""
    truncated: bool = False
    """True when the last trajectory line was an interrupted append (dropped)."""

    @property
    def last_step(self) -> int:
        """Number of the last complete step, 0 when none was recorded."""
        return self.steps[-1].step if self.steps else 0

    def path(self, relative: str) -> Path:
        """Absolute path of a file named relative to the run folder."""
        return self.folder / relative

    def screenshot(self, record: StepRecord) -> Path | None:
        """The step's screenshot, or None when it is missing."""
        if not record.observation.screenshot:
            return None
        path = self.path(record.observation.screenshot)
        return path if path.is_file() else None

    def marks_image(self, record: StepRecord) -> Path | None:
        """The step's set-of-mark image, or None when there was none or it is missing."""
        if not record.observation.marks_image:
            return None
        path = self.path(record.observation.marks_image)
        return path if path.is_file() else None

    def ok_actions(self) -> list[tuple[StepRecord, ActionOutcome]]:
        """Every action that ran successfully, in order, with its step."""
        return [(r, a) for r in self.steps for a in r.actions if a.status == "ok"]

    def totals(self) -> RunTotals:
        """Totals recomputed from the steps (run.json may lag one step behind a crash)."""
        return totals_from_steps(self.steps)


def totals_from_steps(steps: list[StepRecord]) -> RunTotals:
    """The same sums ``RunRecorder.append_step`` keeps, computed from recorded steps."""
    totals = RunTotals()
    for record in steps:
        totals.add(record)
    return totals


def _first_error(exc: ValidationError) -> str:
    """One line out of pydantic's multi-line report: where and what, for the first problem."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "(top level)"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def read_info(folder: Path) -> RunInfo:
    """run.json of ``folder``, validated; ``TrajectoryError`` when it is not a run folder."""
    if not folder.exists():
        raise TrajectoryError(f"{folder} does not exist")
    if not folder.is_dir():
        raise TrajectoryError(f"{folder} is not a folder; give the run folder (it holds run.json)")
    run_file = folder / RUN_FILE
    if not run_file.is_file():
        raise TrajectoryError(
            f"{folder} is not a run folder: it has no {RUN_FILE} "
            "(give one folder under runs/, e.g. runs/20261126-041500-...)"
        )
    text = read_text_file(
        run_file,
        "run file",
        max_bytes=MAX_RUN_FILE_BYTES,
        error=TrajectoryError,
        hint="it was damaged or not written by cradle",
    )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrajectoryError(
            f"{run_file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise TrajectoryError(f"{run_file}: expected a JSON object, got {type(data).__name__}")
    _check_unicode(text, data, str(run_file))
    version = data.get("format_version", FORMAT_VERSION)
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise TrajectoryError(
            f"{run_file}: format version {version} is newer than this cradle reads "
            f"({FORMAT_VERSION}); upgrade cradle"
        )
    try:
        return RunInfo.model_validate(data)
    except ValidationError as exc:
        raise TrajectoryError(f"{run_file}: {_first_error(exc)}") from None


def read_steps(path: Path) -> tuple[list[StepRecord], bool]:
    """The complete steps of a trajectory file and whether a cut-off last line was dropped.

    Read a line at a time, each at most ``MAX_STEP_LINE_BYTES``: a run folder may come from
    anywhere, and a step line cradle writes stays far below that."""
    if not path.is_file():
        return [], False
    steps: list[StepRecord] = []
    try:
        with path.open("rb") as handle:
            for index, line in enumerate(_lines(handle, path), start=1):
                if not line.endswith(b"\n") and _is_cut_off(line):
                    return steps, True  # an append cut off by a crash: never finished
                record = _parse_step(line, f"{path}:{index}")
                if steps and record.step <= steps[-1].step:
                    raise TrajectoryError(
                        f"{path}:{index}: step {record.step} follows step {steps[-1].step} "
                        "(steps must increase)"
                    )
                steps.append(record)
    except OSError as exc:
        raise TrajectoryError(f"{path}: cannot read: {exc.strerror}") from None
    return steps, False


def _lines(handle: BinaryIO, path: Path) -> Iterator[bytes]:
    index = 0
    while line := handle.readline(MAX_STEP_LINE_BYTES + 1):
        index += 1
        if len(line) > MAX_STEP_LINE_BYTES:
            raise TrajectoryError(
                f"{path}:{index}: longer than {MAX_STEP_LINE_BYTES:,} bytes "
                "(not a step line cradle writes)"
            )
        yield line


def _is_cut_off(line: bytes) -> bool:
    """A last line without its newline that is not a whole JSON object."""
    try:
        json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return True
    return not line.strip()


def _parse_step(line: bytes, where: str) -> StepRecord:
    if not line.strip():
        raise TrajectoryError(f"{where}: empty line (each line must be one step)")
    try:
        text = line.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrajectoryError(f"{where}: not valid JSON ({_json_reason(exc)})") from None
    if not isinstance(data, dict):
        raise TrajectoryError(f"{where}: expected a JSON object, got {type(data).__name__}")
    _check_unicode(text, data, where)
    try:
        return StepRecord.model_validate(data)
    except ValidationError as exc:
        raise TrajectoryError(f"{where}: {_first_error(exc)}") from None


def _check_unicode(raw: str, data: object, where: str) -> None:
    """Refuse a ``\\udcff``-style escape of a lone surrogate: valid JSON, but not text.

    Such a string would pass here and fail later, when a report, a replay or a resumed run
    writes it out as UTF-8. Only text that holds such an escape is checked in full.
    """
    if "\\ud" not in raw.lower():
        return
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise TrajectoryError(
            f"{where}: holds an escaped lone surrogate (\\udXXX), which is not text; "
            "it was not written by cradle: fix or remove that value"
        ) from None


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"column {exc.colno}: {exc.msg}"
    return "not UTF-8 text"


def load_run(path: Path | str) -> LoadedRun:
    """Read and validate a run folder; see the module docstring for what is tolerated."""
    folder = Path(path)
    info = read_info(folder)
    trajectory = folder / TRAJECTORY_FILE
    steps, truncated = read_steps(trajectory)
    run = LoadedRun(folder=folder, info=info, steps=steps, truncated=truncated)
    if truncated:
        run.warnings.append(
            f"{trajectory}: the last line was cut off (the run stopped while writing step "
            f"{run.last_step + 1}); it was ignored"
        )
    for record in steps:
        if record.run_id != info.run_id:
            run.warnings.append(
                f"step {record.step}: run id {record.run_id!r} differs from run.json's "
                f"{info.run_id!r}"
            )
        wanted = [p for p in (record.observation.screenshot, record.observation.marks_image) if p]
        absent = [p for p in wanted if not (folder / p).is_file()]
        if absent:
            run.missing[record.step] = absent
            run.warnings.append(f"step {record.step}: missing {', '.join(absent)}")
    return run
