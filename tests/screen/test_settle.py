"""Screen comparison and settling: near-identical frames count as the same, timeouts end, and
a run's capture after typing waits for an app that repaints late."""

from __future__ import annotations

import time
from pathlib import Path

from PIL import Image, ImageDraw

from cradle.agent import AgentSettings
from cradle.llm.scripted import ScriptedModel
from cradle.screen.mock import MockScreen
from cradle.screen.settle import frame_difference, wait_until_settled
from cradle.session import MemorySettings, Session, SessionSettings
from cradle.trajectory.loader import load_run
from cradle.types import StepRecord
from tests.reliability.helpers import fused


def _screen(text_box: bool = False, shift: int = 0) -> Image.Image:
    image = Image.new("RGB", (1024, 768), (230, 230, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((100 + shift, 100, 900 + shift, 700), fill=(255, 255, 255), outline=(0, 0, 0))
    if text_box:
        draw.rectangle((300, 300, 700, 500), fill=(20, 20, 120))
    return image


def test_identical_frames_differ_by_zero() -> None:
    assert frame_difference(_screen(), _screen()) == 0.0


def test_a_dialog_is_a_large_difference() -> None:
    assert frame_difference(_screen(), _screen(text_box=True)) > 0.05


def test_one_pixel_noise_is_ignored() -> None:
    noisy = _screen()
    noisy.putpixel((500, 400), (0, 0, 0))
    assert frame_difference(_screen(), noisy) < 0.001


def test_other_sizes_are_compared_after_resizing() -> None:
    small = _screen().resize((512, 384))
    assert frame_difference(_screen(), small) < 0.01


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_settles_after_consecutive_equal_frames() -> None:
    frames = iter([_screen(True), _screen(), _screen(), _screen()])
    clock = _Clock()
    result = wait_until_settled(
        lambda: next(frames), frames=2, interval=0.05, timeout=5, clock=clock, sleep=clock.sleep
    )
    assert result.settled and result.captures == 3
    assert frame_difference(result.frame, _screen()) == 0.0


def test_gives_up_after_the_timeout() -> None:
    flip = [False]

    def capture() -> Image.Image:
        flip[0] = not flip[0]
        return _screen(text_box=flip[0])

    clock = _Clock()
    result = wait_until_settled(
        capture, frames=2, interval=0.1, timeout=1.0, clock=clock, sleep=clock.sleep
    )
    assert not result.settled and 1.0 <= result.waited < 1.3


def test_min_delay_is_waited_first() -> None:
    clock = _Clock()
    result = wait_until_settled(_screen, frames=1, min_delay=0.7, clock=clock, sleep=clock.sleep)
    assert result.settled and clock.now == 0.7


def test_frames_still_equal_to_the_screen_before_need_a_longer_quiet_spell() -> None:
    before = _screen()
    clock = _Clock()
    late = iter([_screen(), _screen(), _screen(True), _screen(True), _screen(True)])
    result = wait_until_settled(
        lambda: next(late),
        frames=2,
        interval=0.05,
        timeout=5,
        clock=clock,
        sleep=clock.sleep,
        unchanged=before,
        unchanged_frames=4,
    )
    # Two frames equal to `before` were not enough; the late change was waited for.
    assert result.settled and result.captures == 4
    assert frame_difference(result.frame, _screen(True)) == 0.0
    clock = _Clock()
    still = wait_until_settled(
        _screen,
        frames=2,
        interval=0.05,
        timeout=5,
        clock=clock,
        sleep=clock.sleep,
        unchanged=before,
        unchanged_frames=4,
    )
    assert still.settled and still.captures == 4 and abs(clock.now - 0.15) < 1e-9


class _LateScreen(MockScreen):
    """The mocked notepad, but typed text shows ``LATE`` seconds after the keys (a slow app)."""

    LATE = 0.5
    settle_interval = 0.2

    def __init__(self, inner: MockScreen) -> None:
        self.__dict__.update(inner.__dict__)
        self._stale: Image.Image | None = None
        self._visible_at = 0.0

    def capture(self) -> Image.Image:
        if self._stale is not None and time.monotonic() < self._visible_at:
            return self._stale.copy()
        return super().capture()

    def type_text(self, text: str) -> None:
        self._stale = super().capture()
        super().type_text(text)
        self._visible_at = time.monotonic() + self.LATE


def _late_run(tmp_path: Path, settle: float) -> list[StepRecord]:
    replies = [
        fused(["type_text(text='hello')"]),
        fused(["move_to(x=5, y=5)"]),
        fused([], done=True),
    ]
    settings = SessionSettings(
        env="mock-notepad",
        task="type",
        runs_dir=tmp_path / f"runs-{settle}",
        generated_skills_dir=None,
        skill_stats=False,
        memory=MemorySettings(enabled=False),
        agent=AgentSettings(mode="fused", max_steps=4, settle_seconds=settle),
    )
    session = Session(settings, model=ScriptedModel({"fused": replies}))
    start = session.environment.start
    session.environment.start = lambda: _LateScreen(start())  # type: ignore[method-assign]
    result = session.run()
    assert result.exit_code == 0, result
    return load_run(result.run_dir).steps


def test_a_step_after_typing_waits_for_the_late_repaint(tmp_path: Path) -> None:
    waited = _late_run(tmp_path, settle=2.0)[1].observation
    assert waited.changed and waited.settled and 300 <= waited.settle_ms < 2000
    stale = _late_run(tmp_path, settle=0)[1].observation  # what happened before settling
    assert not stale.changed and stale.settle_ms == 0


def test_settling_on_the_mocked_screen_costs_one_more_capture(tmp_path: Path) -> None:
    counts = {}
    for settle in (0.0, 1.0):
        captured: list[int] = []
        session = Session(
            SessionSettings(
                env="mock-notepad",
                task="type",
                runs_dir=tmp_path / f"runs-{settle}",
                generated_skills_dir=None,
                skill_stats=False,
                memory=MemorySettings(enabled=False),
                agent=AgentSettings(mode="fused", max_steps=4, settle_seconds=settle, idle_skips=0),
            ),
            model=ScriptedModel(
                {
                    "fused": [
                        fused(["type_text(text='a')"]),
                        fused(["wait(seconds=0)"]),
                        fused([], done=True),
                    ]
                }
            ),
        )
        start = session.environment.start

        def counting(start=start, captured=captured) -> MockScreen:
            screen = start()
            capture = screen.capture
            screen.capture = lambda: captured.append(1) or capture()  # type: ignore[method-assign]
            return screen

        session.environment.start = counting  # type: ignore[method-assign]
        steps = load_run(session.run().run_dir).steps
        assert all(s.observation.settled for s in steps)
        counts[settle] = len(captured)
    assert counts == {0.0: 3, 1.0: 6}  # three steps: one capture each, or two
