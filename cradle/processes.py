"""Ending the helper processes cradle starts (Xvfb, a local chroma server)."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, timeout: float = 5.0) -> None:
    """Ask ``process`` to end, and kill it when it has not within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
