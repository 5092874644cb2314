"""A local Chroma server (``chroma run``) for tests, benchmarks and trying ``--memory-url``.

``chroma run`` comes with chromadb. The server is started on a free loopback port, waited
for until its heartbeat answers, and stopped when the block ends.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cradle.errors import MemoryUnavailableError
from cradle.processes import free_port, stop_process


@contextmanager
def local_chroma_server(
    path: Path, *, log: Path | None = None, timeout: float = 30.0
) -> Iterator[str]:
    """Serve the store in ``path`` on 127.0.0.1; yields its URL (``http://127.0.0.1:PORT``)."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if not chroma:
        raise MemoryUnavailableError("the chroma command is missing: pip install chromadb")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    output = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                where = f" (see {log})" if log is not None else ""
                raise MemoryUnavailableError(f"chroma run did not start{where}")
            time.sleep(0.05)
        yield url
    finally:
        stop_process(process, timeout=10)
        if log is not None:
            output.close()  # type: ignore[union-attr]
