"""CoordinateMap: downscale, HiDPI and monitor origins (including negative ones)."""

from __future__ import annotations

import pytest

from cradle.screen.base import ScreenGeometry
from cradle.screen.mapping import CoordinateMap, fit_within


def test_identity() -> None:
    m = CoordinateMap((1920, 1080), ScreenGeometry((1920, 1080)))
    assert m.to_input(0, 0) == (0, 0)
    assert m.to_input(1919, 1079) == (1919, 1079)
    assert m.to_image(700, 300) == (700, 300)


def test_downscale_by_two() -> None:
    m = CoordinateMap((960, 540), ScreenGeometry((1920, 1080)))
    assert m.downscale == (2.0, 2.0)
    # Model pixel 100 covers capture pixels 200-201; its centre rounds into that pair.
    x, y = m.to_input(100, 50)
    assert x in (200, 201) and y in (100, 101)
    assert m.to_image(*m.to_input(480, 270)) == (480, 270)
    assert m.to_input(959, 539)[0] <= 1919 and m.to_input(959, 539)[1] <= 1079


def test_non_integer_downscale() -> None:
    size = fit_within((1920, 1080), 1280)
    assert size == (1280, 720)
    m = CoordinateMap(size, ScreenGeometry((1920, 1080)))
    assert m.to_input(640, 360) == (960, 540)
    for x in (0, 1, 333, 1279):
        assert abs(m.to_image(*m.to_input(x, 10))[0] - x) <= 1


def test_hidpi_retina_scale_two() -> None:
    # A Retina monitor: 2880x1800 captured pixels, 1440x900 input points.
    g = ScreenGeometry((2880, 1800), origin=(0, 0), scale=2.0)
    m = CoordinateMap((1440, 900), g)
    assert m.to_input(720, 450) == (720, 450)
    assert m.to_input(0, 0) == (0, 0)
    m_small = CoordinateMap((1280, 800), g)
    x, y = m_small.to_input(640, 400)
    assert (x, y) == (720, 450)
    assert m_small.to_image(720, 450) == (640, 400)


@pytest.mark.parametrize("origin", [(1920, 0), (-1280, 0), (0, -1024), (-1920, -200)])
def test_monitor_origins(origin: tuple[int, int]) -> None:
    g = ScreenGeometry((1280, 1024), origin=origin)
    m = CoordinateMap((640, 512), g)
    ox, oy = origin
    x, y = m.to_input(0, 0)
    assert (x - ox, y - oy) in {(0, 0), (1, 1), (0, 1), (1, 0)}
    cx, cy = m.to_input(320, 256)
    assert (cx - ox, cy - oy) in {(640, 512), (641, 513)}
    assert m.to_image(cx, cy) == (320, 256)


def test_negative_origin_with_hidpi_and_downscale() -> None:
    g = ScreenGeometry((3840, 2160), origin=(-1920, -1080), scale=2.0)
    m = CoordinateMap((1920, 1080), g)  # the model sees half the pixels: one per point
    assert m.to_input(960, 540) == (-960, -540)
    assert m.to_image(-960, -540) == (960, 540)
    assert m.to_input(0, 0) == (-1920, -1080)


def test_window_crop_origin() -> None:
    g = ScreenGeometry((400, 300), origin=(700, 400))
    m = CoordinateMap((200, 150), g)
    assert m.to_input(100, 75) in {(900, 550), (901, 551)}
    assert m.contains(199, 149) and not m.contains(200, 0) and not m.contains(-1, 5)
