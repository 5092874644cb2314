"""Incremental perception on the real desktop under Xvfb equals a full pass at every frame.

mousepad with a document: two words typed, the File menu opened and closed, xcalc opened on
top as a new window; then xterm with a command typed (``benchmarks.frame_sequences``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.frame_sequences import compare, desktop_sequence


def test_incremental_equals_full_on_recorded_desktop_frames(
    display: dict[str, str], tmp_path: Path
) -> None:
    for app in ("mousepad", "xcalc", "xterm", "xdotool"):
        if shutil.which(app) is None:
            pytest.fail(f"{app} is missing (tests/run.sh installs tests/debian-packages.txt)")
    report = compare(desktop_sequence(display, tmp_path), repeats=1)
    assert report["identical"], f"frames that differ: {report['differ']}"
    frames = {row["frame"]: row for row in report["per_frame"]}
    assert frames["mousepad"]["ocr_bands_read"] == frames["mousepad"]["ocr_bands"]
    # A typed word re-reads its own line; the rest of the window comes from the cache.
    typed = frames["typed word 2"]
    assert 1 <= typed["ocr_bands_read"] < typed["ocr_bands"]
    assert frames["new window"]["ocr_bands_read"] >= 1
