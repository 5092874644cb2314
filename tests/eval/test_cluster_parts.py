"""The parts of `cradle eval --ray` that need no cluster: run folders packed on a node and
unpacked on the driver, bounds, flag checks, connection errors, what a task needs."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

from cradle.cli.cluster_options import check_cluster
from cradle.errors import UsageError
from cradle.eval.ray_node import (
    OWNER_FILE,
    SCRATCH_PREFIX,
    _packed_runs,
    folder_bytes,
    pack,
    sweep_stale_scratch,
    unpack,
)
from cradle.eval.scheduler import display_needs
from cradle.types import Task


def _run_folder(root: Path) -> Path:
    run = root / "runs" / "t" / "20260101-000000-x-t-abcd"
    (run / "screenshots").mkdir(parents=True)
    (run / "run.json").write_text('{"status": "done"}')
    (run / "screenshots" / "step-0001.png").write_bytes(b"\x89PNG" + b"0" * 1000)
    return run


def test_a_run_folder_travels_whole(tmp_path: Path) -> None:
    run = _run_folder(tmp_path / "node")
    data = pack(run.parent)
    unpack(data, tmp_path / "driver")
    copy = tmp_path / "driver" / run.name
    assert (copy / "run.json").read_text() == '{"status": "done"}'
    assert (copy / "screenshots" / "step-0001.png").read_bytes() == (
        run / "screenshots" / "step-0001.png"
    ).read_bytes()
    assert folder_bytes(run.parent) == 18 + 1004
    assert pack(tmp_path / "missing") and folder_bytes(tmp_path / "missing") == 0


def _archive(name: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    return buffer.getvalue()


def test_an_archive_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    with pytest.raises(tarfile.TarError):
        unpack(_archive("../escaped.txt"), tmp_path / "driver")
    assert not (tmp_path / "escaped.txt").exists()
    absolute = tmp_path / "absolute-escape.txt"
    unpack(_archive(str(absolute)), tmp_path / "driver")  # lands inside, "/" stripped
    assert not absolute.exists()
    assert (tmp_path / "driver" / str(absolute).lstrip("/")).read_text() == "hi"


def test_a_run_folder_over_the_bound_stays_on_the_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "node-tmp"))
    (tmp_path / "node-tmp").mkdir()
    run = _run_folder(tmp_path / "node")
    sent = _packed_runs(run.parent, limit=10_000, address="10.0.0.7")
    assert set(sent) == {"runs", "runs_root"}
    kept = _packed_runs(run.parent, limit=100, address="10.0.0.7")
    assert "runs" not in kept and kept["kept_bytes"] == 1022
    where = Path(kept["kept"].split(":", 1)[1])
    assert where.parent == tmp_path / "node-tmp" / "cradle-ray-kept"
    assert kept["kept"].startswith("10.0.0.7:") and (where / run.name / "run.json").is_file()
    assert not run.parent.exists()  # moved out of the scratch folder that is removed


def test_scratch_of_a_dead_ray_worker_is_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    for name, owner in (("dead", str(dead.pid)), ("alive", str(os.getpid())), ("odd", "x")):
        (tmp_path / f"{SCRATCH_PREFIX}{name}").mkdir()
        (tmp_path / f"{SCRATCH_PREFIX}{name}" / OWNER_FILE).write_text(owner)
    assert sweep_stale_scratch() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{SCRATCH_PREFIX}alive",
        f"{SCRATCH_PREFIX}odd",
    ]


def test_cluster_flags_are_checked(tmp_path: Path) -> None:
    assert check_cluster(None, 2, None) is None
    assert check_cluster("auto", 1, tmp_path) == tmp_path.absolute()
    with pytest.raises(UsageError, match="--shared-out needs --ray"):
        check_cluster(None, 1, tmp_path)
    with pytest.raises(UsageError, match="--workers is for this machine"):
        check_cluster("auto", 3, None)
    with pytest.raises(UsageError, match="no such folder here"):
        check_cluster("auto", 1, tmp_path / "not-mounted")


def test_a_wrong_address_is_one_line_at_once() -> None:
    pytest.importorskip("ray")  # the cluster tests fail when it is missing
    from cradle.eval.cluster import connect

    with pytest.raises(UsageError, match="give HOST:PORT of the head node"):
        connect("head-without-port")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(UsageError, match=f"no Ray cluster answers at 127.0.0.1:{port}"):
        connect(f"127.0.0.1:{port}")
    assert time.monotonic() - started < 5


def _task(**fields: object) -> Task:
    return Task.model_validate(
        {"id": "t", "instruction": "x", "check": [{"command": "true"}], **fields}
    )


def test_a_task_needs_what_it_says_else_what_its_environment_needs() -> None:
    needs = display_needs()
    assert needs(_task(environment="desktop")) is True
    assert needs(_task(environment="mock-notepad")) is False
    assert needs(_task(environment="mock-notepad", needs={"display": True})) is True
    assert needs(_task(environment="desktop", needs={"display": False})) is False
    assert _task(environment="e").needs.cpus == 1.0
    assert _task(environment="e", needs={"cpus": 0.5}).needs.cpus == 0.5
