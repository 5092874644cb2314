"""``cradle eval --ray ADDRESS``: the suite's tasks as Ray tasks on a cluster's nodes.

The driver (this process) is the local harness with another :meth:`run`: the same jobs
(:meth:`Scheduler.job`), the same recording (results.jsonl, skills promoted after success,
summary.json and report.html by the same code), the same retry rule. Each task is a Ray task
running :func:`cradle.eval.ray_node.run_on_node`, which runs the local worker on the node
that Ray picked; results stream back as tasks finish (``ray.wait``) and each line gets the
node that ran it. Run folders come back into ``OUT/runs/<task id>/`` (or are written by the
nodes into ``--shared-out``).

Resources: a task asks for ``needs.cpus`` CPUs and, when it needs a display, one unit of
the custom resource ``display``, which the nodes that have Xvfb and the apps declare (``ray
start ... --resources '{"display": N}'``: N episodes with a screen at once). A task that no
node of the cluster can hold is a usage error before anything runs.

Failures: Ray retries nothing itself. A lost node (its task fails with NodeDiedError or a
killed Ray worker) and a crashed episode are attempted again by the driver, up to
``--retries`` more times, wherever Ray places them; a task that no alive node can hold any
more (its node was the only one with a display) fails at once with the reason instead of
waiting forever. Ctrl+C or SIGTERM cancel the tasks (``ray.cancel``: a running one stops its
worker as the local harness does, a queued one never starts); what finished is kept.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections import Counter, deque
from pathlib import Path
from types import ModuleType
from typing import Any

from cradle.bounds import shorten
from cradle.errors import UsageError
from cradle.eval.jobs import MAX_RESULT_BYTES, EvalResult
from cradle.eval.pool import KILL_GRACE, Attempt
from cradle.eval.ray_node import MAX_RUN_BYTES, run_on_node, unpack
from cradle.eval.results import LOGS_DIR, RUNS_DIR, EvalStorageError
from cradle.eval.scheduler import Scheduler, final_result
from cradle.signals import deferred
from cradle.types import Task

DISPLAY_RESOURCE = "display"
"""The custom Ray resource of a node's virtual displays (one per episode with a screen)."""
MAX_IN_FLIGHT = 1_000
"""Tasks submitted to Ray at once; the rest wait in the driver (bounds what a stop cancels)."""
FIT_CHECK_SECONDS = 5.0
"""How often the driver looks for tasks that no alive node can hold any more."""
_WAIT = 0.5


def connect(address: str, env: dict[str, str] | None = None) -> ModuleType:
    """Ray, connected to the cluster at ``address``, its tasks getting ``env``; one-line
    usage errors otherwise."""
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install 'cradle[ray]'") from None
    _check_reachable(address)
    handler = signal.getsignal(signal.SIGTERM)
    try:
        ray.init(
            address=address,
            logging_level=logging.WARNING,
            log_to_driver=False,
            runtime_env={"env_vars": env} if env else None,
        )
    except Exception as exc:  # noqa: BLE001 - Ray raises several kinds, all with long text
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UsageError(
            f"cannot join the Ray cluster at {address}: {shorten(first, 300)}"
        ) from None
    finally:  # ray.init installs its own SIGTERM handler; ours stops the suite cleanly
        signal.signal(signal.SIGTERM, handler)
    return ray


def _check_reachable(address: str) -> None:
    """A mistyped HOST:PORT fails in seconds here, not after Ray's minute of retries."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(
            f"--ray {address!r}: give HOST:PORT of the head node (the port of "
            "`ray start --head --port PORT`) or auto"
        )
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise UsageError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}): start "
            f"one with `ray start --head --port {port}` or check --ray"
        ) from None


def describe_needs(cpus: float, display: bool) -> str:
    return f"{cpus:g} CPU(s)" + (" and a display" if display else "")


class RayScheduler(Scheduler):
    """Submits the tasks to Ray, records each as it comes back, attempts lost ones again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.running: dict[Any, tuple[Task, int]] = {}
        self.unfit: set[Any] = set()
        self.nodes: Counter[str] = Counter()
        self.addresses: dict[str, str] = {}
        self.cpus = 0
        self._warned_versions: set[str] = set()

    def summary(self) -> dict[str, Any]:
        nodes = {
            node: {"address": self.addresses.get(node, ""), "tasks": count}
            for node, count in sorted(self.nodes.items())
        }
        return {
            "ray": self.options.ray,
            "nodes": nodes,
            **({"workers": self.cpus} if self.cpus else {}),
        }

    def run(self, todo: list[Task]) -> None:
        if not todo:
            return
        if (self.options.memory or {}).get("memory_dir"):
            raise UsageError(
                "--memory-dir is a folder of this machine: with --ray give "
                "--memory-url (a Chroma server every node reaches)"
            )
        assert self.options.ray is not None
        ray = connect(self.options.ray, self._task_env())
        try:
            self.cpus = int(sum(n["Resources"].get("CPU", 0) for n in _alive(ray)))
            self.addresses.update(_addresses(ray))
            for task in todo:
                if not self._fits(ray, task):
                    raise UsageError(self._unfit_reason(task, at_start=True))
            self._loop(ray, todo)
        finally:
            with deferred():
                self._cancel_all(ray)
                ray.shutdown()

    def _task_env(self) -> dict[str, str]:
        """The model's API key, when this process has it: the tasks get it as a local
        worker does (from this process's environment), so nodes need not hold it."""
        name = str(self.options.model.get("api_key_env") or "")
        value = os.environ.get(name) if self.options.mode == "model" and name else None
        return {name: value} if value else {}

    def _loop(self, ray: ModuleType, todo: list[Task]) -> None:
        remote = ray.remote(run_on_node)
        waiting: deque[tuple[Task, int]] = deque((task, 1) for task in todo)
        next_check = time.monotonic() + FIT_CHECK_SECONDS
        while waiting or self.running:
            while waiting and len(self.running) < MAX_IN_FLIGHT:
                task, attempt = waiting.popleft()
                self.running[self._submit(remote, task)] = (task, attempt)
                if attempt == 1:
                    self.progress.task_started(task.id)
            ready, _ = ray.wait(list(self.running), num_returns=1, timeout=_WAIT)
            if ready:  # and every other that is done by now
                ready, _ = ray.wait(list(self.running), num_returns=len(self.running), timeout=0)
            for ref in ready:
                task, attempt = self.running.pop(ref)
                if self._collect(ray, ref, task, attempt):
                    waiting.append((task, attempt + 1))
            if time.monotonic() > next_check:
                self.addresses.update(_addresses(ray))
                self._cancel_unfit(ray)
                next_check = time.monotonic() + FIT_CHECK_SECONDS

    def _submit(self, remote: Any, task: Task) -> Any:
        display = self.needs_display(task)
        options: dict[str, Any] = {
            "num_cpus": task.needs.cpus,
            "max_retries": 0,
            "scheduling_strategy": "SPREAD",
            "name": f"cradle-eval:{task.id}",
        }
        if display:
            options["resources"] = {DISPLAY_RESOURCE: 1}
        shared = self.options.shared_out
        spec = {
            "display": display,
            "kill_margin": self.options.kill_margin,
            "log_shown": str((shared or self.out) / LOGS_DIR / f"{task.id}.log"),
            "shared": str(shared) if shared is not None else None,
            "max_run_bytes": MAX_RUN_BYTES,
        }
        job = self.job(task, Path(""))  # the node puts the run folder where it writes
        return remote.options(**options).remote(job.model_dump_json(), spec)

    def _collect(self, ray: ModuleType, ref: Any, task: Task, attempt: int) -> bool:
        """Record the attempt's result, or say it is to be made again (True)."""
        unfit = ref in self.unfit
        self.unfit.discard(ref)
        try:
            payload = ray.get(ref)
            done = self._receive(task, payload)
            if payload.get("cancelled"):  # only _cancel_unfit cancels during the run
                done = Attempt(
                    EvalResult.failed(task, self._lost_reason(task, None, True)), retry=False
                )
        except ray.exceptions.RayTaskError as exc:  # the node's code raised: a bug, not a loss
            cause = getattr(exc, "cause", None) or exc
            done = Attempt(
                EvalResult.failed(task, f"harness: on its node: {_first_line(cause)}"), retry=True
            )
        except ray.exceptions.RayError as exc:
            done = Attempt(
                EvalResult.failed(task, self._lost_reason(task, exc, unfit)), retry=not unfit
            )
        except (KeyError, TypeError, ValueError) as exc:  # a node of another cradle version
            done = Attempt(
                EvalResult.failed(
                    task,
                    f"harness: the node's answer is not what cradle {_version()} expects: {exc!r}",
                ),
                retry=False,
            )
        if done.retry and attempt <= self.options.retries:
            if self._fits(ray, task):
                self.note_retry(task, done.result)
                return True
            done = Attempt(
                done.result.model_copy(
                    update={"error": f"{done.result.error}; {self._unfit_reason(task)}"}
                ),
                retry=False,
            )
        self._record(task, final_result(done, attempt))
        return False

    def _receive(self, task: Task, payload: dict[str, Any]) -> Attempt:
        """The attempt a node sent back, its run folder unpacked and named here."""
        line = str(payload["result"])
        if len(line) > MAX_RESULT_BYTES:
            return Attempt(
                EvalResult.failed(
                    task,
                    f"harness: the node's result line is larger than {MAX_RESULT_BYTES:,} bytes",
                ),
                retry=True,
            )
        result = EvalResult.model_validate_json(line)
        node = str(payload["node"])
        self.nodes[node] += 1
        self.addresses.setdefault(node, str(payload.get("address", "")))
        self._check_version(str(payload.get("version", "")), self.addresses[node])
        run_dir = self._land_runs(task, payload, result.run_dir)
        self._land_log(task, payload.get("log"))
        return Attempt(
            result.model_copy(update={"node": node, "run_dir": run_dir}),
            retry=bool(payload["retry"]),
        )

    def _land_runs(self, task: Task, payload: dict[str, Any], run_dir: str) -> str:
        """Where the attempt's run folder is now (on this machine, or kept on its node)."""
        if not run_dir or "runs_root" not in payload:  # written to --shared-out, or none
            return run_dir
        relative = Path(run_dir).relative_to(payload["runs_root"])
        if "kept" in payload:
            self.progress.note(
                f"{task.id}: its run folder ({payload['kept_bytes'] / 1e6:.0f} MB) is larger "
                f"than what comes back over Ray; it stays on the node at {payload['kept']} "
                "(--shared-out writes run folders where this machine sees them)"
            )
            return f"{payload['kept']}/{relative}"
        target = self.out / RUNS_DIR / task.id
        try:
            unpack(payload["runs"], target)
        except OSError as exc:
            raise EvalStorageError(f"cannot write {target}: {exc.strerror or exc}") from None
        except Exception as exc:  # noqa: BLE001 - a bad archive costs its run folder only
            self.progress.note(f"{task.id}: its run folder could not be unpacked: {exc}")
            return ""
        return str(target / relative)

    def _land_log(self, task: Task, data: Any) -> None:
        if isinstance(data, bytes):
            path = self.out / LOGS_DIR / f"{task.id}.log"
            try:
                path.write_bytes(data)
            except OSError as exc:
                raise EvalStorageError(f"cannot write {path}: {exc.strerror or exc}") from None

    def _check_version(self, version: str, address: str) -> None:
        if version != _version() and address not in self._warned_versions:
            self._warned_versions.add(address)
            self.progress.note(
                f"the node at {address} runs cradle {version or '?'}, this "
                f"machine {_version()}: install the same version everywhere"
            )

    def _fits(self, ray: ModuleType, task: Task) -> bool:
        """Whether some alive node has what the task needs."""
        display = self.needs_display(task)
        return any(
            n["Resources"].get("CPU", 0) >= task.needs.cpus
            and (not display or n["Resources"].get(DISPLAY_RESOURCE, 0) >= 1)
            for n in _alive(ray)
        )

    def _unfit_reason(self, task: Task, *, at_start: bool = False) -> str:
        needs = describe_needs(task.needs.cpus, self.needs_display(task))
        hint = ""
        if self.needs_display(task):
            hint = (
                " (a node with Xvfb and the apps offers displays: ray start ... "
                "--resources '{\"display\": 2}')"
            )
        if at_start:
            return (
                f"task {task.id} needs {needs} and no node of the Ray cluster at "
                f"{self.options.ray} has them{hint}"
            )
        return f"no alive node of the Ray cluster has the {needs} it needs any more"

    def _lost_reason(self, task: Task, exc: BaseException | None, unfit: bool) -> str:
        """Why an attempt that raised in Ray failed: its node was lost (Ray's first line), or
        it was cancelled because no alive node can hold it any more (its nodes were lost)."""
        why = self._unfit_reason(task) if unfit or exc is None else _first_line(exc)
        return f"node lost: {why}"

    def _cancel_unfit(self, ray: ModuleType) -> None:
        """Cancel waiting tasks that no alive node can hold (Ray would keep them forever)."""
        for ref, (task, _) in list(self.running.items()):
            if ref not in self.unfit and not self._fits(ray, task):
                self.unfit.add(ref)
                ray.cancel(ref)

    def _cancel_all(self, ray: ModuleType) -> None:
        """Cancel what is still running and wait for it to be cleaned up (its run folder comes
        back); record what finished meanwhile on its own."""
        for ref in self.running:
            ray.cancel(ref)
        # A stopping node stops its worker (KILL_GRACE), then packs and sends the run folder;
        # on a loaded machine that took longer than 8 s, and the folders were lost.
        deadline = time.monotonic() + 2 * KILL_GRACE + 10
        while self.running and time.monotonic() < deadline:
            ready, _ = ray.wait(list(self.running), num_returns=len(self.running), timeout=_WAIT)
            for ref in ready:
                task, attempt = self.running.pop(ref)
                try:
                    payload = ray.get(ref)
                    done = self._receive(task, payload)
                except (ray.exceptions.RayError, KeyError, TypeError, ValueError):
                    continue  # cancelled before it started, or lost: not a result of the task
                if not payload.get("cancelled") and not (done.result.error or "").startswith(
                    "interrupted"
                ):
                    self._record(task, final_result(done, attempt))
        self.running.clear()


def _alive(ray: ModuleType) -> list[dict[str, Any]]:
    return [node for node in ray.nodes() if node.get("Alive")]


def _addresses(ray: ModuleType) -> dict[str, str]:
    """Each node's address as the cluster knows it (a node's own guess may differ)."""
    return {str(n["NodeID"]): str(n.get("NodeManagerAddress", "")) for n in ray.nodes()}


def _version() -> str:
    from cradle import __version__

    return __version__


def _first_line(exc: BaseException) -> str:
    """Ray's errors carry pages (a raylet's log); the reason keeps their first line."""
    text = str(exc).strip().splitlines()
    return shorten(text[0] if text else type(exc).__name__, 300)
