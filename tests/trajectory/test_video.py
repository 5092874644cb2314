"""export-video: an mp4 that OpenCV opens, with at least one frame per step."""

from __future__ import annotations

from pathlib import Path

import cv2

from tests.trajectory.helpers import cradle_cli, demo_run


def test_export_video(tmp_path: Path) -> None:
    run = demo_run(tmp_path)
    result = cradle_cli("export-video", str(run.folder), "--fps", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = run.folder / "run.mp4"
    capture = cv2.VideoCapture(str(path))
    try:
        assert capture.isOpened()
        frames = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames += 1
            assert frame.shape[1] == 1024
        assert frames >= len(run.steps)
    finally:
        capture.release()
