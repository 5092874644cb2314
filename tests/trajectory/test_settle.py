"""Screen comparison and settling: near-identical frames count as the same, timeouts end."""

from __future__ import annotations

from PIL import Image, ImageDraw

from cradle.trajectory.settle import frame_difference, wait_until_settled


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
    result = wait_until_settled(lambda: next(frames), frames=2, interval=0.05, timeout=5,
                                clock=clock, sleep=clock.sleep)
    assert result.settled and result.captures == 3
    assert frame_difference(result.frame, _screen()) == 0.0


def test_gives_up_after_the_timeout() -> None:
    flip = [False]

    def capture() -> Image.Image:
        flip[0] = not flip[0]
        return _screen(text_box=flip[0])

    clock = _Clock()
    result = wait_until_settled(capture, frames=2, interval=0.1, timeout=1.0, clock=clock,
                                sleep=clock.sleep)
    assert not result.settled and 1.0 <= result.waited < 1.3


def test_min_delay_is_waited_first() -> None:
    clock = _Clock()
    result = wait_until_settled(_screen, frames=1, min_delay=0.7, clock=clock, sleep=clock.sleep)
    assert result.settled and clock.now == 0.7
