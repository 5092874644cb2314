"""``cradle eval --ray`` against ``--workers 2``: wall time, time to first result, memory.

    python -m benchmarks.ray_bench            # the shipped mocked tasks
    python -m benchmarks.ray_bench --all      # every shipped task (Xvfb and the apps)

A private Ray cluster of two nodes on 127.0.0.1 (cradle.eval.local_cluster: one CPU and one
``display`` each, dashboard off) is started first (``cluster_start_s``). The suite then runs
with ``--reference`` twice, each time as ``python -m cradle eval`` in a process of its own, as
a user runs it: once with ``--workers 2`` on this machine, once with ``--ray`` on the cluster
(the same two episodes at once). For each run: the wall time of the whole command,
the time from its start to the first line in results.jsonl, and the driver's peak resident
memory (VmHWM). During the Ray run each node's resident memory (all its processes: Ray's
daemons and workers, the episodes' processes) is sampled every 0.1 s; the peak and the value
before the run are reported, summed over processes (shared pages counted in each).

``per_task_s`` is what a task costs beyond its episode with two at once: ``(2 x wall -
sum of episode seconds) / tasks`` (worker start, Ray's scheduling, the run folder's transfer);
``ray_overhead_per_task_s`` is the Ray run's minus the local one's. ``run_folder_kb_mean`` is
what a task sends back over Ray.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cradle.eval.local_cluster import LocalCluster, local_ray_cluster
from cradle.eval.ray_node import folder_bytes
from cradle.paths import project_dir

MB = 1024 * 1024


def _suite(everything: bool) -> list[Path]:
    pattern = "environments/*/tasks" if everything else "environments/mock_*/tasks"
    return sorted(project_dir().glob(pattern))


def _peak_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _eval(
    folders: list[Path], out: Path, extra: list[str], cluster: LocalCluster | None = None
) -> dict[str, Any]:
    """One ``cradle eval --reference`` run, watched from outside."""
    argv = [
        sys.executable,
        "-m",
        "cradle",
        "eval",
        *map(str, folders),
        "--reference",
        "--out",
        str(out),
        *extra,
    ]
    nodes = [0] * len(cluster.nodes) if cluster else []
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first, driver = None, 0
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for index, node in enumerate(cluster.nodes if cluster else []):
                nodes[index] = max(nodes[index], node.rss_bytes())
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    results = out / "results.jsonl"
    while proc.poll() is None:
        driver = max(driver, _peak_rss(proc.pid))
        if first is None and results.is_file() and results.stat().st_size:
            first = time.perf_counter() - started
        time.sleep(0.05)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    stderr = proc.stderr.read() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"cradle eval failed ({proc.returncode}): {stderr[-2000:]}")
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    return {"wall": wall, "first": first or wall, "driver": driver, "nodes": nodes, "lines": lines}


def run(everything: bool = False) -> dict[str, Any]:
    folders = _suite(everything)
    with tempfile.TemporaryDirectory(prefix="cradle-ray-bench-") as tmp:
        started = time.perf_counter()
        with local_ray_cluster([{"display": 1}, {"display": 1}]) as cluster:
            cluster_start = time.perf_counter() - started
            time.sleep(2)  # let the nodes settle before the idle figure
            idle = [node.rss_bytes() for node in cluster.nodes]
            local = _eval(folders, Path(tmp) / "local", ["--workers", "2"])
            ray = _eval(folders, Path(tmp) / "ray", ["--ray", cluster.address], cluster)
        runs = [folder_bytes(Path(line["run_dir"])) for line in ray["lines"] if line["run_dir"]]
    tasks = len(ray["lines"])

    def per_task(run: dict[str, Any]) -> float:
        return (2 * run["wall"] - sum(line["seconds"] for line in run["lines"])) / tasks

    return {
        "suite": "all shipped tasks" if everything else "shipped mocked tasks",
        "tasks": tasks,
        "passed": {
            "local": sum(line["success"] for line in local["lines"]),
            "ray": sum(line["success"] for line in ray["lines"]),
        },
        "nodes_used": len({line["node"] for line in ray["lines"]}),
        "cluster_start_s": round(cluster_start, 2),
        "wall_s_local_workers_2": round(local["wall"], 2),
        "wall_s_ray_2_nodes": round(ray["wall"], 2),
        "ratio_ray_to_local": round(ray["wall"] / local["wall"], 3),
        "first_result_s_local": round(local["first"], 2),
        "first_result_s_ray": round(ray["first"], 2),
        "per_task_s_local": round(per_task(local), 3),
        "per_task_s_ray": round(per_task(ray), 3),
        "ray_overhead_per_task_s": round(per_task(ray) - per_task(local), 3),
        "driver_peak_rss_mb_local": round(local["driver"] / MB, 1),
        "driver_peak_rss_mb_ray": round(ray["driver"] / MB, 1),
        "node_rss_mb_idle": [round(value / MB, 1) for value in idle],
        "node_rss_mb_peak": [round(value / MB, 1) for value in ray["nodes"]],
        "run_folder_kb_mean": round(sum(runs) / max(1, len(runs)) / 1024, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(everything="--all" in sys.argv[1:]), indent=2))
