"""What the loop sees of a step's frame: the perception started early, the observation built late.

Perception (accessibility tree, OCR, contours, marks) is the costliest part of observing a
changed frame on a real desktop, and nothing before the prompt needs it: the step's other
pre-model work (refreshing and describing skills, recalling memories) does not read the
screen. So the loop starts it on a worker thread as soon as the frame is captured and
downscaled (``PendingPerception``), does that other work meanwhile, and joins just before the
prompt is built (``observation_of``). Tesseract runs in C with the GIL released, so the two
really overlap. One perception runs at a time per step; the perceiver's caches are
thread-safe (``cradle.vision.pieces``), so a grounding skill may use them later on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PIL import Image

from cradle.perception import Perceiver, Perception
from cradle.screen.mapping import CoordinateMap
from cradle.screen.settle import Settled
from cradle.types import Observation, ScreenElement


class PendingPerception:
    """``perceiver.perceive(frame, shown, mapping)`` running on its own thread from now on."""

    def __init__(
        self, perceiver: Perceiver, frame: Image.Image, shown: Image.Image, mapping: CoordinateMap
    ) -> None:
        self._result: Perception | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run,
            args=(perceiver, frame, shown, mapping),
            name="cradle-perceive",
            daemon=True,
        )
        self._thread.start()

    def _run(
        self, perceiver: Perceiver, frame: Image.Image, shown: Image.Image, mapping: CoordinateMap
    ) -> None:
        try:
            self._result = perceiver.perceive(frame, shown, mapping)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the loop's thread
            self._error = exc

    def result(self) -> Perception:
        """Wait for the perception; its error, if it failed, is raised here, on the loop."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def observation_of(
    step: int,
    frame: Image.Image,
    shown: Image.Image,
    *,
    changed: bool,
    settled: Settled | None,
    paths: tuple[str, str],
    perception: Perception | None,
    scrub: Callable[[str], str],
    notes: list[str],
) -> Observation:
    """The step's ``Observation``: the frame's files and the perception's elements and text,
    names and values passed through ``scrub`` (secrets redacted before the model reads them)."""
    screenshot, marks_image = paths
    return Observation(
        step=step,
        screenshot=screenshot,
        screen_size=frame.size,
        image_size=shown.size,
        changed=changed,
        settle_ms=round(settled.waited * 1000, 3) if settled else 0.0,
        settled=settled.settled if settled else True,
        marks_image=marks_image,
        elements=[
            e.model_copy(update={"name": scrub(e.name), "value": scrub(e.value)})
            for e in (perception.elements if perception else [])
        ],
        screen_text=[
            ScreenElement(label=scrub(span.text), role="text", x=span.center[0], y=span.center[1])
            for span in (perception.text if perception else [])
        ],
        notes=notes,
    )
