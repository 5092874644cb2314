"""An mp4 of a run: each step's screenshot with its actions drawn on it.

Each step becomes ``frames_per_step`` frames (at least one) of its screenshot, with a marker
where each action acted (``ActionOutcome.clicks``, in model-image pixels, scaled to the frame)
and a caption bar saying the step, the subtask and the actions. The frame size is the first
screenshot's, capped at ``max_width`` and rounded to even numbers (what codecs expect); other
steps are fitted into it. OpenCV's ``mp4v`` writer needs no external encoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cradle.errors import TrajectoryError
from cradle.trajectory.loader import LoadedRun
from cradle.types import StepRecord

CAPTION_LINES = 3
LINE_HEIGHT = 18


@dataclass(frozen=True)
class VideoOptions:
    fps: float = 1.0
    frames_per_step: int = 2
    max_width: int = 1280


def _even(n: int) -> int:
    return max(2, n - n % 2)


def _frame_size(run: LoadedRun, max_width: int) -> tuple[int, int]:
    for record in run.steps:
        path = run.screenshot(record)
        if path is not None:
            with Image.open(path) as image:
                width, height = image.size
            break
    else:
        width, height = run.steps[0].observation.screen_size if run.steps else (640, 480)
    if width > max_width:
        height, width = round(height * max_width / width), max_width
    return _even(width), _even(height)


def _caption(record: StepRecord) -> list[str]:
    subtask = record.task_inference.subtask if record.task_inference else ""
    head = f"step {record.step}" + (f": {subtask}" if subtask else "")
    if record.done:
        head += "  [done]"
    actions = [f"{a.status}: {a.source}" for a in record.actions] or ["(no actions)"]
    lines = [head, *actions, *(f"error: {e}" for e in record.errors)]
    if len(lines) > CAPTION_LINES:
        lines = [*lines[: CAPTION_LINES - 1], f"... and {len(lines) - CAPTION_LINES + 1} more"]
    return [line if len(line) <= 150 else line[:147] + "..." for line in lines]


def render_frame(run: LoadedRun, record: StepRecord, size: tuple[int, int]) -> Image.Image:
    """One annotated frame of ``size`` (width, height) for ``record``."""
    width, height = size
    caption_height = CAPTION_LINES * LINE_HEIGHT + 8
    picture_height = max(2, height - caption_height)
    frame = Image.new("RGB", size, (32, 32, 32))
    path = run.screenshot(record)
    draw = ImageDraw.Draw(frame)
    font = ImageFont.load_default(size=14)
    if path is not None:
        with Image.open(path) as image:
            shot = image.convert("RGB")
        scale = min(width / shot.width, picture_height / shot.height)
        shown = shot.resize(
            (max(1, round(shot.width * scale)), max(1, round(shot.height * scale))),
            Image.Resampling.LANCZOS,
        )
        left = (width - shown.width) // 2
        frame.paste(shown, (left, 0))
        iw, ih = record.observation.image_size
        fx, fy = shown.width / iw, shown.height / ih
        radius = max(6, round(min(width, height) / 60))
        for n, (x, y) in enumerate((p for a in record.actions for p in a.clicks), start=1):
            cx, cy = left + (x + 0.5) * fx, (y + 0.5) * fy
            draw.ellipse(
                (cx - radius, cy - radius, cx + radius, cy + radius), outline=(230, 30, 40), width=3
            )
            draw.text((cx + radius + 2, cy - radius - 2), str(n), fill=(230, 30, 40), font=font)
    else:
        draw.text(
            (20, 20), f"step {record.step}: screenshot missing", fill=(255, 200, 0), font=font
        )
    top = picture_height + 4
    draw.rectangle((0, picture_height, width, height), fill=(0, 0, 0))
    for i, line in enumerate(_caption(record)):
        draw.text((8, top + i * LINE_HEIGHT), line, fill=(255, 255, 255), font=font)
    return frame


def export_video(run: LoadedRun, out: Path, options: VideoOptions | None = None) -> int:
    """Write ``out`` (mp4); returns the number of frames written."""
    import cv2

    options = options or VideoOptions()
    if not run.steps:
        raise TrajectoryError(f"{run.folder}: the run has no steps to put in a video")
    size = _frame_size(run, options.max_width)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), options.fps, size)
    if not writer.isOpened():
        raise TrajectoryError(f"cannot write a video to {out} (OpenCV has no mp4v encoder here)")
    frames = 0
    try:
        for record in run.steps:
            frame = render_frame(run, record, size)
            bgr = np.asarray(frame)[:, :, ::-1].copy()
            for _ in range(max(1, options.frames_per_step)):
                writer.write(bgr)
                frames += 1
    finally:
        writer.release()
    return frames
