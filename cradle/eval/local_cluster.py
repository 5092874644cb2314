"""A private Ray cluster on this machine: a head and worker nodes on 127.0.0.1.

For trying ``cradle eval --ray`` without machines, for the tests and for the benchmark. Each
node is a ``ray start`` of its own (one CPU unless told, dashboard and usage statistics off)
with a temp folder of its own, so two clusters (or a user's ``/tmp/ray`` one) never share
sessions. A node's processes are known exactly: its ``ray start`` runs in a session of its
own, which Ray's daemons keep; their descendants (Ray workers, episodes, Xvfb) are found by
parent, and whatever an episode left behind by the mark every process of the node inherits
in its environment (``CRADLE_LOCAL_RAY_NODE``; Ray's own processes overwrite their
environment with their titles, so the mark alone is not enough). The cluster is stopped by
killing exactly those processes, never with ``ray stop`` (which stops every Ray process of
the machine), and a node is lost, as a machine would be, by killing its raylet.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cradle.errors import UsageError
from cradle.processes import free_port

MARK = "CRADLE_LOCAL_RAY_NODE"
START_TIMEOUT = 120.0


@dataclass
class LocalNode:
    """One ``ray start`` of the cluster, known by the mark its processes carry."""

    index: int
    mark: str
    temp_dir: Path
    session: int = 0
    """The session id of its ``ray start`` (a session leader of its own)."""

    def pids(self) -> list[int]:
        """Every live process of this node (Ray's daemons and workers, episodes, Xvfb)."""
        table = _process_table()
        found = {pid for pid, (_, sid) in table.items() if sid == self.session}
        found |= set(marked_pids(f"{MARK}={self.mark}"))
        while True:  # and their descendants
            more = {
                pid for pid, (parent, _) in table.items() if parent in found and pid not in found
            }
            if not more:
                return sorted(found)
            found |= more

    def raylet_pid(self) -> int | None:
        for pid in self.pids():
            if Path(_cmdline(pid).split(" ", 1)[0]).name == "raylet":
                return pid
        return None

    def node_id(self) -> str:
        """Ray's id of this node (from its raylet's command line); '' when it is gone."""
        pid = self.raylet_pid()
        for part in _cmdline(pid).split(" ") if pid else []:
            if part.startswith("--node_id="):
                return part.split("=", 1)[1]
        return ""

    def rss_bytes(self) -> int:
        """Resident memory of all of the node's processes (shared pages counted in each)."""
        return sum(rss_bytes(pid) for pid in self.pids())

    def kill(self) -> None:
        """Lose the node: its raylet dies at once (SIGKILL), as on a machine that fails."""
        pid = self.raylet_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@dataclass
class LocalCluster:
    address: str
    nodes: list[LocalNode] = field(default_factory=list)


@contextmanager
def local_ray_cluster(
    resources: Sequence[dict[str, float]] = ({}, {}),
    *,
    cpus: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[LocalCluster]:
    """A head and ``len(resources) - 1`` worker nodes, each with ``cpus`` CPUs and its
    custom ``resources`` (e.g. ``{"display": 1}``), their processes getting ``env`` too;
    stopped, whatever happens, on exit."""
    ray = _ray_command()
    root = Path(tempfile.mkdtemp(prefix="cr-ray-", dir="/tmp"))  # Ray's socket paths are long
    token = secrets.token_hex(6)
    port = free_port()
    cluster = LocalCluster(address=f"127.0.0.1:{port}")
    try:
        for index, extra in enumerate(resources):
            node = LocalNode(index, f"{token}-{index}", root / f"n{index}")
            argv = [
                ray,
                "start",
                "--num-cpus",
                str(cpus),
                "--disable-usage-stats",
                "--temp-dir",
                str(node.temp_dir),
                "--node-ip-address",
                "127.0.0.1",
                "--resources",
                json.dumps(dict(extra)),
            ]
            if index == 0:
                argv += [
                    "--head",
                    "--port",
                    str(port),
                    "--include-dashboard=false",
                    "--ray-client-server-port",
                    str(free_port()),
                ]
            else:
                argv += ["--address", cluster.address]
            cluster.nodes.append(node)
            _start(argv, node, root / f"start-{index}.log", env or {})
        yield cluster
    finally:
        stop(cluster)
        shutil.rmtree(root, ignore_errors=True)


def _start(argv: list[str], node: LocalNode, log: Path, extra: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(extra)
    env[MARK] = node.mark
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    node.session = proc.pid
    try:
        code = proc.wait(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    if code != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"ray start failed ({code}): {' | '.join(tail)}")


def stop(cluster: LocalCluster) -> None:
    """Kill every process of the cluster's nodes (SIGKILL: Ray keeps nothing worth saving)."""
    for _ in range(3):  # a dying raylet may still be starting a worker
        pids = [pid for node in cluster.nodes for pid in node.pids()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)


def marked_pids(mark: str) -> list[int]:
    """Processes whose environment holds ``mark`` (``NAME=value``); Linux /proc."""
    wanted = mark.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _process_table() -> dict[int, tuple[int, int]]:
    """``pid -> (parent pid, session id)`` of every process (Linux /proc)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            table[int(entry.name)] = (int(fields[1]), int(fields[3]))
        except (OSError, IndexError, ValueError):
            continue
    return table


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cmdline(pid: int | None) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, UnicodeDecodeError):
        return ""


def _ray_command() -> str:
    beside = Path(sys.executable).with_name("ray")
    found = str(beside) if beside.is_file() else shutil.which("ray")
    if not found:
        raise UsageError("the ray command is missing: pip install 'cradle[ray]'")
    return found
