"""What a Ray node does for one task of ``cradle eval --ray``: the local worker, unchanged.

:func:`run_on_node` is the Ray task. It runs the job in a one-episode
:class:`~cradle.eval.pool.Slot` through :func:`~cradle.eval.pool.run_in_slot`, the code a
local slot uses: the worker process (``python -m cradle.eval.worker``) with the episode's own
home, temp folder and D-Bus session, its own Xvfb when the task needs a display, killed at the
task's timeout plus the margin, a crash or hang failing only this attempt.

What comes back is a plain dict: the worker's result line as it wrote it (with the skills its
episode proposed), whether another attempt may do better, the node, and, unless the node
writes to a shared folder, the run folder as an uncompressed tar (screenshots are PNG
already) and the worker's log, both bounded. A run folder larger than the bound stays on the
node, moved out of the task's scratch folder, and its place is named instead.

Ray's ``ray.cancel`` raises KeyboardInterrupt in this function: the worker is then stopped
as the local harness stops it (SIGTERM, so its run is written as interrupted; SIGKILL after
a grace) and the task returns as usual, marked ``cancelled``, with the run folder. Returning
(rather than letting the interrupt end the task) makes the driver's wait for it last until
the episode is cleaned up, instead of ending (and Ray killing this process) at once.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import signal
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cradle.eval.jobs import EvalJob, EvalResult
from cradle.eval.pool import KILL_GRACE, Attempt, Slot, run_in_slot
from cradle.eval.results import LOGS_DIR, RUNS_DIR

MAX_RUN_BYTES = 256_000_000
"""A run folder larger than this is not sent back over Ray; it stays on the node."""
MAX_LOG_BYTES = 2_000_000
"""The end of a worker's log that comes back (a log is mostly the episode's own output)."""
KEPT_DIR = "cradle-ray-kept"
"""Under the node's temp folder: run folders too large to send back."""
SCRATCH_PREFIX = "cradle-ray-task-"
OWNER_FILE = "owner.pid"
_POLL = 0.2


def run_on_node(job_json: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one attempt of a job on this node; see the module docstring for what returns.

    ``spec``: ``display`` (start an Xvfb for it), ``kill_margin``, ``log_shown`` (the
    driver's name for the log, for reasons), ``shared`` (a folder every node sees, or None),
    ``max_run_bytes``."""
    import ray
    from ray.util import get_node_ip_address

    _interruptible()
    job = EvalJob.model_validate_json(job_json)
    task_id = job.task.id
    sweep_stale_scratch()
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    try:
        (scratch / OWNER_FILE).write_text(str(os.getpid()))
        shared = Path(spec["shared"]) if spec.get("shared") else None
        base = shared if shared is not None else scratch
        runs_dir = base / RUNS_DIR / task_id
        log = base / LOGS_DIR / f"{task_id}.log" if shared is not None else scratch / "log"
        job = job.model_copy(update={"runs_dir": str(runs_dir)})
        cancelled = False
        if shared is not None and not shared.is_dir():
            done = Attempt(
                EvalResult.failed(
                    job.task, f"harness: --shared-out {shared} is not a folder on this node"
                ),
                retry=True,
            )
        else:
            log.parent.mkdir(parents=True, exist_ok=True)
            done, cancelled = _attempt(job, spec, scratch, log)
        address = get_node_ip_address()
        payload: dict[str, Any] = {
            "result": done.result.wire_json(),
            "retry": done.retry,
            "cancelled": cancelled,
            "node": ray.get_runtime_context().get_node_id(),
            "address": address,
            "version": _version(),
        }
        if shared is None:
            payload.update(_packed_runs(runs_dir, int(spec["max_run_bytes"]), address))
            payload["log"] = _tail_bytes(log, MAX_LOG_BYTES)
        return payload
    finally:
        _remove(scratch)


def _interruptible() -> None:
    """Let ``ray.cancel`` reach this task. Ray cancels a running task with SIGINT, which it
    turns into KeyboardInterrupt; a node started from a script (``ray start ... &``, a CI
    job) hands its workers SIGINT *ignored*, and the cancel then did nothing: the episode ran
    on and its setup commands outlived the eval. Only the main thread may set a handler."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _remove(folder: Path) -> None:
    """Remove the task's scratch folder; once more after a moment when something was still
    writing into it (a stopped episode's last files)."""
    for _ in range(3):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.5)


def _attempt(job: EvalJob, spec: dict[str, Any], scratch: Path, log: Path) -> tuple[Attempt, bool]:
    """run_in_slot in a thread, so this (main) thread stays where Ray's cancel lands; and
    whether it was cancelled."""
    slot = Slot(1, scratch)
    box: list[Attempt | BaseException] = []
    over = threading.Event()  # not Thread.join: an interrupted join (3.11) marks the
    # thread as stopped while it still runs

    def episode() -> None:
        try:
            box.append(
                run_in_slot(
                    slot,
                    job,
                    needs_display=bool(spec["display"]),
                    kill_margin=float(spec["kill_margin"]),
                    log=log,
                    log_shown=str(spec["log_shown"]),
                )
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the Ray task's thread
            box.append(exc)
        finally:
            over.set()

    threading.Thread(target=episode, name="cradle-eval-episode", daemon=True).start()
    cancelled = False
    try:
        while not over.wait(_POLL):
            pass
    except KeyboardInterrupt:  # ray.cancel: stop the worker as the local harness does
        cancelled = True
        slot.stop()
        if not over.wait(KILL_GRACE):
            slot.stop(signal.SIGKILL)
            over.wait(KILL_GRACE)
    finally:
        slot.close()
    if not box:  # still not over after SIGKILL: let Ray end the task
        raise KeyboardInterrupt
    outcome = box[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome, cancelled


def sweep_stale_scratch() -> int:
    """Remove the scratch folders of tasks whose Ray worker is gone without cleaning up (its
    raylet was killed: the node was lost while the machine stayed); how many."""
    removed = 0
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        try:
            os.kill(int((folder / OWNER_FILE).read_text()), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        except (OSError, ValueError):  # alive (another user's), or not ours to judge
            continue
    return removed


def _packed_runs(runs_dir: Path, limit: int, address: str) -> dict[str, Any]:
    """``runs`` (a tar of the task's run folders) and ``runs_root`` (their folder here), or
    ``kept`` (where they stay on this node) when they are larger than ``limit``."""
    size = folder_bytes(runs_dir)
    if size <= limit:
        return {"runs": pack(runs_dir), "runs_root": str(runs_dir)}
    kept = Path(tempfile.gettempdir()) / KEPT_DIR / f"{runs_dir.name}-{secrets.token_hex(4)}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(runs_dir), kept)
    return {"kept": f"{address}:{kept}", "kept_bytes": size, "runs_root": str(runs_dir)}


def folder_bytes(folder: Path) -> int:
    """The size of the files under ``folder`` (links not followed); 0 when it is missing."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def pack(folder: Path) -> bytes:
    """The contents of ``folder`` as an uncompressed tar (empty when it is missing)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        if folder.is_dir():
            for child in sorted(folder.iterdir()):
                tar.add(child, arcname=child.name)
    return buffer.getvalue()


def unpack(data: bytes, target: Path) -> None:
    """Extract a tar made by :func:`pack` into ``target``; members that would land outside
    it, links out of it, devices and the like are refused (tarfile's ``data`` filter)."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        tar.extractall(target, filter="data")


def _tail_bytes(path: Path, limit: int) -> bytes:
    try:
        with open(path, "rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - limit))
            return file.read()
    except OSError:
        return b""


def _version() -> str:
    import cradle

    return cradle.__version__
