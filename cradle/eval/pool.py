"""Worker slots: one episode at a time per slot, each in a fresh process, home and D-Bus session.

A slot starts its own virtual display (Xvfb) the first time one of its tasks needs a screen,
and keeps it for its later episodes; two slots never share one. Each episode gets an
:class:`~cradle.tasks.EpisodePlace` (its own ``HOME``, ``TMPDIR``, XDG folders) in a short
temporary path (sockets live there: a Unix socket path is limited to ~108 bytes), runs as
``python -m cradle.eval.worker`` (inside ``dbus-run-session`` when the episode has a display
and D-Bus is installed) and is removed afterwards.

Everything an episode starts carries a mark in its environment (``CRADLE_EVAL_EPISODE``):
after the episode, whatever still carries it is killed, also apps that left the worker's
process group (setup commands and launched apps run in sessions of their own).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import cradle
from cradle.errors import EXIT_FAILURE, CradleError
from cradle.eval.jobs import MAX_RESULT_BYTES, EvalJob, EvalResult
from cradle.signals import signal_name
from cradle.tasks.setup import EpisodePlace
from cradle.types import Task

DISPLAY_SIZE = (1920, 1080)
DISPLAY_NUMBERS = range(300, 600)
"""Display numbers of eval slots, apart from the tests' (:90 up) and benchmarks' (:190 up)."""
EPISODE_MARK = "CRADLE_EVAL_EPISODE"
KILL_GRACE = 3.0
"""Seconds a worker asked to stop (SIGTERM) gets to write its run before it is killed."""
_NOT_INHERITED = ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS")
"""The harness's own display and bus are never an episode's: it gets its slot's, or none."""


@dataclass
class WorkerRun:
    """What a worker process left: its result line, or how it ended without one."""

    result: EvalResult | None
    returncode: int | None
    timed_out: bool
    seconds: float
    log_tail: str


@dataclass
class Attempt:
    """One attempt at a task: its result line, and whether another attempt may do better."""

    result: EvalResult
    retry: bool
    """The worker died without a result line, or the harness failed around it (no Xvfb, no
    disk): a crash, not the task's verdict. A hung worker is not retried (it used its time)."""


@dataclass
class Worker:
    """A started worker process waiting for its job, with the place made for its episode."""

    proc: subprocess.Popen[bytes]
    token: str
    root: Path
    log: Path
    needs_display: bool


class Slot:
    """Runs one episode at a time; owns its virtual display from first need until closed.

    While an episode runs, the worker for the slot's next one is already started (``warm``),
    so its Python start and imports overlap the episode instead of adding to the suite's time.
    """

    def __init__(self, number: int, scratch: Path) -> None:
        self.number = number
        self.scratch = scratch
        self.display: dict[str, str] | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._token = ""
        self._warm: Worker | None = None
        self._stack = ExitStack()
        self._dbus = shutil.which("dbus-run-session")

    def display_env(self) -> dict[str, str]:
        """This slot's DISPLAY and XAUTHORITY (its Xvfb starts now if it is not up yet)."""
        if self.display is None:
            from cradle.screen.xvfb import virtual_display

            self.display = self._stack.enter_context(
                virtual_display(DISPLAY_SIZE, numbers=DISPLAY_NUMBERS, reuse=False)
            )
        return self.display

    @property
    def has_dbus(self) -> bool:
        return self._dbus is not None

    def run(
        self, job: EvalJob, *, needs_display: bool, timeout: float, log: Path, more: bool = False
    ) -> WorkerRun:
        """Run ``job`` in a fresh worker; kill it (and all it started) after ``timeout`` s.
        ``more``: another task follows, so the next worker is started now."""
        worker, self._warm = self._warm, None
        if worker is not None and (
            worker.needs_display != needs_display or worker.proc.poll() is not None
        ):
            self._end(worker)
            worker = None
        started = time.monotonic()
        try:
            worker = worker or self._start(needs_display)
            self.process, self._token = worker.proc, worker.token
            if more:
                self._warm = self._start(needs_display)
            return self._drive(worker, job, timeout, started)
        finally:
            self.process = None
            if worker is not None:
                self._end(worker, keep_log=log)

    def _start(self, needs_display: bool) -> Worker:
        token = secrets.token_hex(8)
        root = Path(tempfile.mkdtemp(prefix=f"{self.number}-", dir=self.scratch))
        try:
            display = self.display_env() if needs_display else None
            env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
            env.update(display or {})
            env[EPISODE_MARK] = token
            package_root = str(Path(cradle.__file__).resolve().parent.parent)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (package_root, env.get("PYTHONPATH", "")) if p
            )
            place = EpisodePlace.create(root / "place", base_env=env)
            argv = [sys.executable, "-m", "cradle.eval.worker"]
            if display is not None and self._dbus is not None:
                argv = [self._dbus, "--", *argv]
            log = root / "worker.log"
            with open(log, "wb") as log_file:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log_file,
                    env=place.env,
                    cwd=place.home,
                    start_new_session=True,
                )
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return Worker(proc, token, root, log, needs_display)

    def _drive(self, worker: Worker, job: EvalJob, timeout: float, started: float) -> WorkerRun:
        proc, timed_out = worker.proc, False
        try:
            out, _ = proc.communicate(job.model_dump_json().encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc)
            try:  # a process the episode left behind may still hold the pipe open
                out, _ = proc.communicate(timeout=KILL_GRACE)
            except subprocess.TimeoutExpired:
                sweep(worker.token)
                out = b""
        return WorkerRun(
            _parse(out), proc.returncode, timed_out, time.monotonic() - started, _tail(worker.log)
        )

    def _end(self, worker: Worker, keep_log: Path | None = None) -> None:
        """Kill whatever the worker's episode left running, keep its log, remove its place."""
        if worker.proc.poll() is None:
            kill_group(worker.proc, grace=0.5)
        for stream in (worker.proc.stdin, worker.proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        sweep(worker.token)
        if keep_log is not None:
            with contextlib.suppress(OSError):
                shutil.move(worker.log, keep_log)
        shutil.rmtree(worker.root, ignore_errors=True)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the running worker's process group (from another thread: Ctrl+C), and kill
        what its episode started in sessions of their own (setup commands, apps): they are
        not in the group, and the process running this may not live to sweep them later."""
        proc, token = self.process, self._token
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            sweep(token, spare_group=proc.pid)

    def close(self) -> None:
        """Stop the waiting worker, if any, and this slot's display."""
        worker, self._warm = self._warm, None
        if worker is not None:
            self._end(worker)
        self._stack.close()


def run_in_slot(
    slot: Slot,
    job: EvalJob,
    *,
    needs_display: bool,
    kill_margin: float,
    log: Path,
    log_shown: str,
    more: bool = False,
) -> Attempt:
    """Run ``job`` in ``slot`` and say what came of it: the worker's result line, or a failed
    line with the reason (crashed, hung, harness) and the run folder the worker left, closed.

    Shared by the local scheduler and a Ray node (cradle.eval.cluster), so isolation, kill
    and the reasons given are the same code wherever the episode runs. ``log`` is where the
    worker's log is kept; ``log_shown`` is how a reason names it (the driver's path)."""
    task = job.full_task()
    runs_dir = Path(job.runs_dir)
    started = time.time()
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        run = slot.run(
            job, needs_display=needs_display, timeout=task.timeout + kill_margin, log=log, more=more
        )
    except (CradleError, OSError) as exc:
        return Attempt(
            EvalResult.failed(task, f"harness: {exc}", seconds=time.time() - started), retry=True
        )
    if run.result is not None and run.result.id != task.id:
        return Attempt(
            EvalResult.failed(
                task,
                f"the worker's result names another task ({run.result.id[:100]!r})",
                seconds=run.seconds,
            ),
            retry=False,
        )
    if run.result is not None and not run.timed_out:
        return Attempt(run.result, retry=False)
    reason = _why(task, run, kill_margin, log_shown)
    run_dir = _latest_run(runs_dir, since=started)
    if run_dir is not None:
        _close_run(run_dir, reason)
    return Attempt(
        EvalResult.failed(task, reason, seconds=run.seconds, run_dir=str(run_dir or "")),
        retry=not run.timed_out,
    )


def _why(task: Task, run: WorkerRun, kill_margin: float, log: str) -> str:
    last = run.log_tail.splitlines()[-1][:300] if run.log_tail.strip() else ""
    seen = f" (last log line: {last})" if last else ""
    if run.timed_out:
        return (
            f"hung: killed after {task.timeout + kill_margin:g} s, its timeout "
            f"({task.timeout:g} s) plus {kill_margin:g} s; log: {log}"
        )
    if run.returncode is not None and run.returncode < 0:
        return f"crashed: the worker was killed by {signal_name(-run.returncode)}{seen}; log: {log}"
    return f"crashed: the worker exited with code {run.returncode} and no result{seen}; log: {log}"


def _latest_run(runs_dir: Path, *, since: float) -> Path | None:
    """The run folder a killed worker was writing (the newest made after it started)."""
    with contextlib.suppress(OSError):
        found = [
            p
            for p in runs_dir.iterdir()
            if p.is_dir() and (p / "run.json").is_file() and p.stat().st_mtime >= since - 1
        ]
        if found:
            return max(found, key=lambda p: p.stat().st_mtime)
    return None


def _close_run(folder: Path, reason: str) -> None:
    """Mark a killed worker's run failed (it said running) and write its report."""
    from cradle.trajectory.loader import load_run, read_info
    from cradle.trajectory.recorder import RunRecorder
    from cradle.trajectory.report import write_report

    try:
        info = read_info(folder)
        if info.status == "running":
            RunRecorder.reopen(folder, info).finish("failed", EXIT_FAILURE, reason)
        write_report(load_run(folder))
    except Exception:  # noqa: BLE001,S110 - the task's line says what happened either way
        pass


def kill_group(proc: subprocess.Popen[bytes], grace: float = KILL_GRACE) -> None:
    """SIGTERM to the worker's process group (the run gets written), SIGKILL after ``grace``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def sweep(token: str, spare_group: int | None = None) -> int:
    """Kill every process whose environment carries this episode's mark; how many (Linux).
    ``spare_group``: leave that process group alone (the worker, signalled on its own)."""
    mark = f"{EPISODE_MARK}={token}".encode()
    killed = 0
    proc_root = Path("/proc")
    if not proc_root.is_dir():
        return 0
    for entry in proc_root.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            variables = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if mark in variables:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                pid = int(entry.name)
                if spare_group is not None and os.getpgid(pid) == spare_group:
                    continue
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def _parse(out: bytes | None) -> EvalResult | None:
    """The worker's result line, or None when it wrote none (or garbage)."""
    if not out or len(out) > MAX_RESULT_BYTES:
        return None
    lines = out.decode("utf-8", "replace").strip().splitlines()
    try:
        return EvalResult.model_validate_json(lines[-1]) if lines else None
    except ValueError:
        return None


def _tail(log: Path, limit: int = 2_000) -> str:
    """The end of a worker's log, for the reason a crashed task gives."""
    try:
        with open(log, "rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - limit))
            return file.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
