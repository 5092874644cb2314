"""The loop's look at the screen (``cradle.observer``): an unchanged frame costs no new work."""

from __future__ import annotations

from PIL import Image

from cradle.observer import Observer
from cradle.perception import Perception
from cradle.screen.base import ScreenGeometry
from cradle.screen.mapping import CoordinateMap
from cradle.stopwatch import Stopwatch


class Frames:
    """A screen showing the frames it is given, in turn."""

    settle_interval = 0.0

    def __init__(self, *frames: Image.Image) -> None:
        self.frames = list(frames)
        self.geometry = ScreenGeometry(capture_size=frames[0].size)

    def capture(self) -> Image.Image:
        return self.frames.pop(0)


class Recorder:
    def __init__(self) -> None:
        self.saved: list[str] = []

    def save_screenshot(self, name: str, image: Image.Image) -> str:
        self.saved.append(name)
        return f"screenshots/{name}.png"


class Marks:
    """A perceiver that draws 'marks' (a copy) and counts its work."""

    def __init__(self) -> None:
        self.calls = 0

    def perceive(
        self, frame: Image.Image, shown: Image.Image, mapping: CoordinateMap | None = None
    ) -> Perception:
        self.calls += 1
        return Perception(image=shown.copy())


def test_an_unchanged_frame_reuses_the_last_view_and_a_changed_one_is_seen_afresh() -> None:
    white, black = Image.new("RGB", (64, 48), "white"), Image.new("RGB", (64, 48), "black")
    recorder, marks = Recorder(), Marks()
    observer = Observer(
        Frames(white, white.copy(), black),  # type: ignore[arg-type]
        recorder,  # type: ignore[arg-type]
        perceiver=marks,
        max_image_side=32,
        settle_seconds=0,
        scrub=str.upper,
        notes=lambda: ["a note"],
    )
    seen = [observer.start(step, Stopwatch())() for step in (1, 2, 3)]
    assert [s.observation.changed for s in seen] == [True, False, True]
    assert marks.calls == 2
    assert recorder.saved == ["step-0001", "step-0001-marks", "step-0003", "step-0003-marks"]
    assert seen[1].image is seen[0].image and seen[1].perception is seen[0].perception
    assert seen[1].observation.screenshot == "screenshots/step-0001.png"
    assert seen[1].observation.marks_image == "screenshots/step-0001-marks.png"
    assert seen[0].image.size == (32, 24) and seen[0].mapping.image_size == (32, 24)
    assert seen[2].observation.notes == ["a note"]
