"""Writes a run folder as the run goes: run.json, trajectory.jsonl and screenshots.

Each step is appended as one JSON line and flushed to disk when the step ends, so a crash or
``kill -9`` loses at most the step in progress. run.json is replaced atomically, so it is
always either the old or the new version, never half of one.

A write that fails (disk full, read-only folder) raises ``RunStorageError`` naming the file,
and leaves nothing half-done: a temporary file is removed, a partly appended step line is
cut off again. The loop then ends the run; ``finish`` still records the final status when
run.json can be written at all.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from cradle.errors import RunStorageError, UsageError
from cradle.trajectory.format import (
    FINAL_SCREENSHOT,
    RUN_FILE,
    SCREENSHOTS_DIR,
    TRAJECTORY_FILE,
    RunInfo,
)
from cradle.types import RunStatus, StepRecord, utc_now


def new_run_id(environment: str, task: str, now: datetime | None = None) -> str:
    """Sortable, readable and unique: ``20261126-041500-mock-notepad-write-hello-3f2a``."""
    stamp = (now or utc_now()).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", task.lower()).strip("-")[:32].strip("-") or "task"
    env = re.sub(r"[^a-z0-9-]+", "-", environment.lower())
    return f"{stamp}-{env}-{slug}-{secrets.token_hex(2)}"


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an ``OSError`` while writing ``path`` into one ``RunStorageError`` line."""
    try:
        yield
    except OSError as exc:
        raise RunStorageError(
            f"cannot write {exc.filename or path}: {exc.strerror or exc}; free some space (or "
            "make the run folder writable) and continue with `cradle run --resume RUN_FOLDER`"
        ) from None


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary name to write, renamed onto ``path``; removed again if anything fails."""
    tmp = path.with_name(path.name + ".tmp")
    with writing(path):
        try:
            yield tmp
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise


def write_atomic(path: Path, text: str) -> None:
    with _replacing(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _save_png(image: Image.Image, path: Path) -> None:
    """Write under a temporary name, then rename: a crash leaves no half-written image."""
    with _replacing(path) as tmp:
        image.save(tmp, format="PNG", compress_level=1)


class RunRecorder:
    """Owns one run folder while the run is live."""

    def __init__(self, folder: Path, info: RunInfo) -> None:
        self.folder = folder
        self.info = info
        self._trajectory: BinaryIO | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        self._older: list[Future[None]] = []
        self.fault: RunStorageError | None = None
        """The first write that failed; ``finish`` reports it whatever else ended the run."""

    @classmethod
    def create(cls, runs_dir: Path, info: RunInfo) -> RunRecorder:
        """Make the folder for a new run and write its run.json."""
        folder = runs_dir / info.run_id
        try:
            (folder / SCREENSHOTS_DIR).mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise UsageError(
                f"run folder {folder} already exists; choose another --runs-dir"
            ) from None
        except OSError as exc:
            raise UsageError(f"cannot create run folder {folder}: {exc.strerror}") from None
        recorder = cls(folder, info)
        try:
            recorder.write_info()
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # no run folder without a run.json
            raise
        return recorder

    @classmethod
    def reopen(cls, folder: Path, info: RunInfo) -> RunRecorder:
        """Continue writing an existing run folder (resume): appends to the same trajectory.

        A last line cut off by a crash is removed first, so the next step starts on a line of
        its own. run.json goes back to ``running`` until the resumed run finishes.
        """
        trajectory = folder / TRAJECTORY_FILE
        with writing(trajectory):
            if trajectory.is_file():
                with open(trajectory, "r+b") as handle:
                    end = _complete_length(handle)
                    if end != handle.seek(0, os.SEEK_END):
                        handle.truncate(end)
                        handle.flush()
                        os.fsync(handle.fileno())
            (folder / SCREENSHOTS_DIR).mkdir(parents=True, exist_ok=True)
        info.status = "running"
        info.ended_at = None
        info.exit_code = None
        info.reason = ""
        recorder = cls(folder, info)
        recorder.write_info()
        return recorder

    @property
    def run_id(self) -> str:
        return self.info.run_id

    def write_info(self) -> None:
        """Replace run.json; ``RunStorageError`` (and the old run.json kept) if it cannot be."""
        write_atomic(self.folder / RUN_FILE, self.info.model_dump_json(indent=2) + "\n")

    def save_screenshot(self, name: str, image: Image.Image) -> str:
        """Store a PNG (lossless, so replay can compare pixels) and return its relative path.

        The encoding (~20 ms at 1080p) runs on a writer thread while the loop goes on; a
        step's screenshots are waited for when the *next* step is appended (or the run ends),
        so at most the last step's image can be missing after a crash, which the loader,
        replay and report all tolerate.
        """
        relative = f"{SCREENSHOTS_DIR}/{name}.png"
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cradle-png")
        self._pending.append(self._writer.submit(_save_png, image, self.folder / relative))
        return relative

    def save_final_screenshot(self, image: Image.Image) -> str:
        """The screen as the run left it, for the checker and the report; written at once
        (the run has finished, so nothing waits for a queued image)."""
        relative = f"{SCREENSHOTS_DIR}/{FINAL_SCREENSHOT}.png"
        _save_png(image, self.folder / relative)
        return relative

    def _flush_screenshots(self, *, all_steps: bool = True) -> None:
        """Wait for earlier steps' screenshots (and this step's too when ``all_steps``).

        Every one is waited for; the first that failed is raised (and kept as ``fault``).
        """
        waiting, self._older = self._older, []
        if all_steps:
            waiting, self._pending = waiting + self._pending, []
        failed: RunStorageError | None = None
        for future in waiting:
            try:
                future.result()
            except RunStorageError as exc:
                failed = failed or exc
        if failed is not None:
            raise self._failed(failed)

    def _failed(self, error: RunStorageError) -> RunStorageError:
        self.fault = self.fault or error
        return error

    def _append_line(self, line: bytes) -> None:
        """One step line, synced to disk; a failed append is cut off again (best effort)."""
        path = self.folder / TRAJECTORY_FILE
        with writing(path):
            if self._trajectory is None:
                self._trajectory = open(path, "ab", buffering=0)  # noqa: SIM115 - kept open
            handle = self._trajectory
            start = handle.seek(0, os.SEEK_END)
            try:
                view = memoryview(line)
                while view:
                    view = view[handle.write(view) or 0 :]
                os.fsync(handle.fileno())
            except BaseException:
                with contextlib.suppress(OSError):
                    handle.truncate(start)
                raise

    def append_step(self, record: StepRecord) -> None:
        """Append one step and push it to disk before the next step starts.

        The step is written even when an earlier screenshot failed (its actions did run);
        then the failure is raised so the loop ends the run.
        """
        with contextlib.suppress(RunStorageError):  # kept as self.fault, raised below
            self._flush_screenshots(all_steps=False)
        self._older, self._pending = self._pending, []
        try:
            self._append_line((record.model_dump_json() + "\n").encode("utf-8"))
            self.info.totals.add(record)
            self.write_info()
        except RunStorageError as exc:
            raise self._failed(exc) from None
        if self.fault is not None:
            raise RunStorageError(str(self.fault))

    def finish(self, status: RunStatus, exit_code: int, reason: str = "") -> None:
        """Write the final status; safe to call more than once (the last call wins).

        A write that failed during the run (or a screenshot that fails now) makes the run
        ``failed`` with the storage exit code, its reason first. ``RunStorageError`` is raised
        only when run.json itself cannot be written, after everything else was closed.
        """
        with contextlib.suppress(RunStorageError):  # kept as self.fault
            self._flush_screenshots()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        if self._trajectory is not None:
            with contextlib.suppress(OSError):
                self._trajectory.close()
            self._trajectory = None
        fault = self.fault
        if fault is not None and reason != str(fault):
            reason = f"{fault} (the run was ending as {status}: {reason})"
            status, exit_code = "failed", fault.exit_code
        self.info.status = status
        self.info.exit_code = exit_code
        self.info.reason = reason
        self.info.ended_at = utc_now()
        self.write_info()


def _complete_length(handle: BinaryIO, chunk: int = 65_536) -> int:
    """Bytes up to and including the last newline (0 if none), read backwards from the end so
    a long trajectory is not read whole."""
    end = handle.seek(0, os.SEEK_END)
    while end > 0:
        start = max(0, end - chunk)
        handle.seek(start)
        found = handle.read(end - start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0
