"""The loop's eyes: one look at the screen per step, reusing what an unchanged screen gave.

Each step waits for the screen to come to rest, captures it and fingerprints the frame. A
changed frame is downscaled for the model, saved, and perceived on a worker thread while the
loop does its other pre-model work (``cradle.observing``); an unchanged one reuses the last
step's image, file and perception: no resize, no PNG, no OCR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from cradle.llm.images import downscale
from cradle.observing import PendingPerception, observation_of
from cradle.perception import Perceiver, Perception
from cradle.screen.base import Screen
from cradle.screen.fingerprint import frame_digest
from cradle.screen.mapping import CoordinateMap
from cradle.screen.settle import Settled, wait_until_settled
from cradle.stopwatch import Stopwatch
from cradle.trajectory.recorder import RunRecorder
from cradle.types import Observation


@dataclass(frozen=True)
class Seen:
    """One step's look at the screen: what is recorded and what the model and skills use."""

    observation: Observation
    image: Image.Image
    """The image shown to the model (marks drawn on it when marks are on)."""
    mapping: CoordinateMap
    """From ``image`` pixels to screen pixels, for the actions."""
    perception: Perception | None


@dataclass(frozen=True)
class _View:
    """The image shown for a frame and the files it was saved to."""

    shown: Image.Image
    path: str
    marks_path: str = ""


class Observer:
    """Captures, fingerprints, saves and perceives the screen, once per step."""

    def __init__(
        self,
        screen: Screen,
        recorder: RunRecorder,
        *,
        perceiver: Perceiver | None,
        max_image_side: int,
        settle_seconds: float,
        scrub: Callable[[str], str],
        notes: Callable[[], list[str]],
    ) -> None:
        self.screen = screen
        self.recorder = recorder
        self.perceiver = perceiver
        self.max_image_side = max_image_side
        self.settle_seconds = settle_seconds
        self._scrub = scrub
        """Redacts secret values from screen text: the model never reads a secret back."""
        self._notes = notes
        self._perception: Perception | None = None
        self._last_view: _View | None = None
        self._last_digest: str | None = None
        self._last_frame: Image.Image | None = None

    def start(self, step: int, clock: Stopwatch) -> Callable[[], Seen]:
        """Capture the frame and start perceiving it on a worker thread; the call returned
        joins it and gives what was seen."""
        frame, settled = self._capture()
        clock.lap("capture")
        digest = frame_digest(frame)
        clock.lap("digest")
        changed = digest != self._last_digest or self._last_view is None
        self._last_digest = digest
        pending, view = None, self._last_view
        if changed:
            self._last_view = None  # until this frame's view is complete
            shown = downscale(frame, self.max_image_side)
            clock.lap("downscale")
            if self.perceiver is not None:
                mapping = CoordinateMap(shown.size, self.screen.geometry)
                pending = PendingPerception(self.perceiver, frame, shown, mapping)
            view = _View(shown, self.recorder.save_screenshot(f"step-{step:04d}", frame))
            clock.lap("screenshot")

        def finish() -> Seen:
            assert view is not None
            return self._finish(step, frame, settled, changed, view, pending, clock)

        return finish

    def _finish(
        self,
        step: int,
        frame: Image.Image,
        settled: Settled | None,
        changed: bool,
        view: _View,
        pending: PendingPerception | None,
        clock: Stopwatch,
    ) -> Seen:
        if pending is not None:
            self._perception = pending.result()
            marked = self._perception.image
            if marked is not view.shown:  # marks were drawn: the model sees them, save them
                marks = self.recorder.save_screenshot(f"step-{step:04d}-marks", marked)
                view = _View(marked, view.path, marks)
            clock.lap("perceive")
        self._last_view = view
        observation = observation_of(
            step,
            frame,
            view.shown,
            changed=changed,
            settled=settled,
            paths=(view.path, view.marks_path),
            perception=self._perception,
            scrub=self._scrub,
            notes=self._notes(),
        )
        mapping = CoordinateMap(view.shown.size, self.screen.geometry)
        return Seen(observation, view.shown, mapping, self._perception)

    def _capture(self) -> tuple[Image.Image, Settled | None]:
        """The screen once it is at rest after the last actions, waiting at most
        ``settle_seconds``: two equal captures ``screen.settle_interval`` apart, or four while
        it still equals the last step's screen (the app may not have begun to repaint; a
        screen with no interval draws before input returns, so it needs no such wait)."""
        if self.settle_seconds <= 0:
            return self.screen.capture(), None
        interval = self.screen.settle_interval
        settled = wait_until_settled(
            self.screen.capture,
            frames=2,
            tolerance=0.0,
            interval=interval,
            timeout=self.settle_seconds,
            unchanged=self._last_frame,
            unchanged_frames=4 if interval > 0 else 0,
        )
        self._last_frame = settled.frame
        return settled.frame, settled
