"""`cradle eval --ray` on a real Ray cluster of two nodes on 127.0.0.1, each with one CPU.

The head node has no display; the worker node offers one (``display: 1``). The cluster is
private to this module (its own temp folders and ports) and stopped, whatever happens, by
killing exactly its own processes. The last test loses the worker node mid-run.
"""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.eval.helpers import (
    CRASH_ONCE,
    RESULT_KEYS,
    SUITE,
    cradle_eval,
    results,
    summary,
    write_suite,
)

pytestmark = [pytest.mark.ray, pytest.mark.slow]

# Only the worker node can hold it (it needs a display); it says when it has started.
SLOW_ON_DISPLAY: dict[str, Any] = {
    "id": "calculator-slow-on-display",
    "instruction": "Compute 1 + 1 on the calculator",
    "environment": "mock-calculator",
    "needs": {"display": True},
    "setup": [{"run": 'touch "$CRADLE_TASK_DIR/slow-started"; sleep 40'}],
    "check": [{"state": {"display": "2"}}],
    "max_steps": 5,
    "timeout": 90,
    "reference": [["type_text(text='1+1=')"]],
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.fail("Ray is not installed: pip install -e '.[test,ray]' (tests/run.sh does)")
    from cradle.eval.local_cluster import local_ray_cluster

    data = tmp_path_factory.mktemp("ray-data")
    with local_ray_cluster([{}, {"display": 1}], env={"CRADLE_DATA_DIR": str(data)}) as found:
        yield found


def _suite(folder: Path, tasks: list[dict[str, Any]]) -> Path:
    return write_suite(folder, copy.deepcopy(tasks))


def test_the_suite_passes_on_both_nodes_as_it_does_locally(cluster: Any, tmp_path: Path) -> None:
    """Reference solutions pass on the cluster as with --workers 2 here; each line names its
    node, both nodes ran tasks, the crashed episode was attempted again, run folders are
    complete and `cradle report` reads them, and --resume runs nothing more."""
    tasks = [*SUITE, CRASH_ONCE]
    on_ray = cradle_eval(
        _suite(tmp_path / "ray" / "tasks", tasks),
        "--reference",
        "--ray",
        cluster.address,
        "--out",
        tmp_path / "ray" / "out",
        cwd=tmp_path,
        timeout=240,
    )
    local = cradle_eval(
        _suite(tmp_path / "local" / "tasks", tasks),
        "--reference",
        "--workers",
        "2",
        "--out",
        tmp_path / "local" / "out",
        cwd=tmp_path,
        timeout=240,
    )
    assert on_ray.returncode == 0, on_ray.stderr
    assert local.returncode == 0, local.stderr
    out = tmp_path / "ray" / "out"
    lines, here = results(out), results(tmp_path / "local" / "out")
    assert (
        {i: r["success"] for i, r in lines.items()}
        == {i: r["success"] for i, r in here.items()}
        == {t["id"]: True for t in tasks}
    )
    assert all(set(line) == RESULT_KEYS for line in lines.values())
    nodes = {node.node_id() for node in cluster.nodes}
    assert {line["node"] for line in lines.values()} == nodes  # both nodes ran tasks
    assert {line["node"] for line in here.values()} == {""}
    assert "calculator-crash-once: crashed: the worker was killed by SIGKILL" in on_ray.stderr
    data = summary(out)
    assert data["ray"] == cluster.address and set(data["nodes"]) == nodes
    assert "on 2 node(s) of the Ray cluster" in (out / "report.html").read_text()
    assert sum(node["tasks"] for node in data["nodes"].values()) == len(tasks) + 1
    for line in lines.values():
        run = Path(line["run_dir"])
        assert run.parent == out / "runs" / line["id"], line
        for name in ("run.json", "trajectory.jsonl", "verdict.json", "report.html"):
            assert (run / name).is_file(), (run, name)
        assert json.loads((run / "run.json").read_text())["status"] == "done"
        assert (out / "logs" / f"{line['id']}.log").is_file()
    run = Path(lines["notepad-save-hello"]["run_dir"])
    (run / "report.html").unlink()
    shown = subprocess.run(
        [sys.executable, "-m", "cradle", "report", str(run)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert (run / "report.html").is_file()
    again = cradle_eval(
        tmp_path / "ray" / "tasks",
        "--reference",
        "--resume",
        "--ray",
        cluster.address,
        "--out",
        out,
        cwd=tmp_path,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "resuming: 4 task(s) already" in again.stderr
    assert len((out / "results.jsonl").read_text().splitlines()) == len(tasks)


def test_a_batch_of_instructions_runs_on_the_cluster(cluster: Any, tmp_path: Path) -> None:
    """`cradle run --tasks-file --ray` is the same pool: each instruction an episode on some
    node, the model reached from there with the driver's API key."""
    from tests.eval.test_batch_and_retries import BatchModel, batch_args, cradle_run
    from tests.fakes.openai_server import FakeOpenAIServer

    with FakeOpenAIServer(BatchModel()) as server:
        done = cradle_run(
            *batch_args(tmp_path, server, "--ray", cluster.address, "--out", tmp_path / "out"),
            cwd=tmp_path,
            env={"OPENAI_API_KEY": "sk-driver-key-for-the-fleet"},
        )
    assert done.returncode == 1, done.stderr  # one episode never ended done
    lines = results(tmp_path / "out")
    assert {i: r["success"] for i, r in lines.items()} == {"line-0003": True, "line-0004": False}
    assert all(r["node"] for r in lines.values()) and all(r["checks"] == [] for r in lines.values())
    assert server.headers and all(
        h["authorization"] == "Bearer sk-driver-key-for-the-fleet" for h in server.headers
    )


def test_skills_an_episode_proposes_come_back_and_are_promoted_here(
    cluster: Any, tmp_path: Path
) -> None:
    """A skill written by an episode on a node travels back in its result line, as from a
    local worker, and the driver promotes it after the task passed."""
    from tests.eval.test_eval_openai_server import TWO, SkillWriter
    from tests.fakes.openai_server import FakeOpenAIServer

    (tmp_path / "tasks.yaml").write_text(TWO)
    with FakeOpenAIServer(SkillWriter()) as server:
        done = cradle_eval(
            tmp_path / "tasks.yaml",
            "--base-url",
            server.base_url,
            "--ray",
            cluster.address,
            "--out",
            tmp_path / "out",
            cwd=tmp_path,
            timeout=240,
        )
    assert done.returncode == 0, done.stderr
    promoted = summary(tmp_path / "out")["skills"]["tasks"]["writes-a-skill"]["promoted"]
    assert len(promoted) == 1
    text = (tmp_path / "out" / "generated_skills" / promoted[0]).read_text()
    assert "def jot_unique_marker_note" in text


def _slow(number: int) -> dict[str, Any]:
    task = copy.deepcopy(SLOW_ON_DISPLAY)
    task.update(
        id=f"slow-{number}",
        needs={},
        setup=[{"run": f'touch "$CRADLE_TASK_DIR/slow-{number}-started"; sleep 40'}],
    )
    return task


def _wait_for(paths: list[Path], driver: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not all(path.exists() for path in paths):
        assert driver.poll() is None and time.monotonic() < deadline, "never started"
        time.sleep(0.2)


def test_sigterm_cancels_the_running_tasks_and_keeps_what_finished(
    cluster: Any, tmp_path: Path
) -> None:
    """SIGTERM while both nodes run a slow episode: the driver ends within seconds (143),
    the cancelled episodes' processes are gone from the nodes and their run folders (written
    as interrupted) come back, finished tasks are kept and the others are listed as not
    run."""
    tasks = [_slow(1), _slow(2), copy.deepcopy(SUITE[0])]
    folder = _suite(tmp_path / "tasks", tasks)
    out = tmp_path / "out"
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cradle",
            "eval",
            str(folder),
            "--reference",
            "--ray",
            cluster.address,
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for([folder / "slow-1-started", folder / "slow-2-started"], driver)
        driver.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        _, stderr = driver.communicate(timeout=60)
        took = time.monotonic() - stopped
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 143, stderr
    assert took < 30, took  # the driver waits up to 16 s for the stopped episodes' folders
    done = results(out) if (out / "results.jsonl").is_file() else {}
    assert set(done) <= {SUITE[0]["id"]}
    assert {"slow-1", "slow-2"} <= set(summary(out)["not_run"])
    # A stopped episode's run folder comes back when the node hands it over in time; under a
    # loaded machine it may not (a known gap), so only what did come back is checked.
    for stopped_task in ("slow-1", "slow-2"):
        for run in (out / "runs" / stopped_task).glob("*/run.json"):
            assert json.loads(run.read_text())["status"] == "interrupted"
    # The nodes end the cancelled episodes' process groups; on a loaded machine that takes
    # a few seconds after the driver has gone. Nothing may outlive that.
    deadline = time.monotonic() + 20
    while True:
        left = [
            pid
            for node in cluster.nodes
            for pid in node.pids()
            if b"cradle.eval.worker" in _cmdline(pid) or b"sleep 40" in _cmdline(pid)
        ]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert left == [], [_cmdline(pid)[:120] for pid in left]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def test_a_lost_node_leaves_complete_results_and_the_reason(cluster: Any, tmp_path: Path) -> None:
    """The worker node's raylet is killed while it runs the task that needs its display: the
    other tasks pass, the lost one is recorded failed with why (no other node can hold it),
    and results.jsonl has every task."""
    worker = cluster.nodes[1]
    assert worker.raylet_pid() is not None
    tasks = [*SUITE, SLOW_ON_DISPLAY]
    folder = _suite(tmp_path / "tasks", tasks)
    out = tmp_path / "out"
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cradle",
            "eval",
            str(folder),
            "--reference",
            "--ray",
            cluster.address,
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for([folder / "slow-started"], driver)
        worker.kill()
        _, stderr = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 1, stderr
    lines = results(out)
    assert set(lines) == {task["id"] for task in tasks}
    assert all(lines[task["id"]]["success"] for task in SUITE)
    lost = lines[SLOW_ON_DISPLAY["id"]]
    assert lost["success"] is False and lost["node"] == ""
    assert lost["error"].startswith("node lost: "), lost
    assert "no alive node of the Ray cluster has the 1 CPU(s) and a display" in lost["error"]
    assert summary(out)["not_run"] == []


def test_memory_written_on_one_node_is_recalled_on_the_other(cluster: Any, tmp_path: Path) -> None:
    """One Chroma server for the fleet: the code word an episode typed on a node reaches the
    prompts of the episodes of a later eval, wherever Ray placed them (two recall tasks at
    once, one CPU a node: normally one on each node)."""
    from cradle.testing.chroma_server import local_chroma_server
    from tests.eval.test_fleet_memory import CODE_WORD, FIRST, SECOND, Model
    from tests.fakes.openai_server import FakeOpenAIServer

    (tmp_path / "first.yaml").write_text(FIRST)
    twice = SECOND + SECOND.replace("id: recall-the-code", "id: recall-the-code-again")
    (tmp_path / "second.yaml").write_text(twice)
    model = Model()
    with (
        local_chroma_server(tmp_path / "chroma", log=tmp_path / "chroma.log") as url,
        FakeOpenAIServer(model) as server,
    ):
        common = [
            "--ray",
            cluster.address,
            "--memory-url",
            url,
            "--base-url",
            server.base_url,
            "--generated-skills-dir",
            tmp_path / "skills",
        ]
        first = cradle_eval(
            tmp_path / "first.yaml",
            *common,
            "--out",
            tmp_path / "one",
            cwd=tmp_path,
            timeout=240,
            env={"OPENAI_API_KEY": "sk-fleet"},
        )
        assert first.returncode == 1, first.stderr  # its second task fails by design
        second = cradle_eval(
            tmp_path / "second.yaml",
            *common,
            "--out",
            tmp_path / "two",
            cwd=tmp_path,
            timeout=240,
            env={"OPENAI_API_KEY": "sk-fleet"},
        )
    assert second.returncode == 0, second.stderr
    writer = results(tmp_path / "one")["remember-the-code"]
    recalled = results(tmp_path / "two")
    assert writer["success"] and all(line["success"] for line in recalled.values())
    # Both recalls usually run one on each node; Ray may place them on one node when loaded,
    # so the lines name the nodes and the recall is checked wherever they ran.
    assert writer["node"] and all(line["node"] for line in recalled.values())
    assert all(CODE_WORD in prompt for prompt in model.prompts["recall"])
