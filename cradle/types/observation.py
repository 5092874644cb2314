"""What the agent saw at the start of a step: the screen's files, elements and text."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from cradle.types.base import Record, utc_now


class ScreenElement(Record):
    """One thing on screen the model may act on, in the pixel space of the image it saw."""

    label: str = Field(description="Visible text or a short name of the element")
    role: str = Field(description="button, menu, text field, window, icon, link, ...")
    x: int = Field(description="Centre x in pixels of the screenshot")
    y: int = Field(description="Centre y in pixels of the screenshot")


ElementSource = Literal["a11y", "ocr", "contours", "template"]
"""Who found an element: the app's accessibility tree, text read by OCR, edge contours, or an
icon matched by template."""


class Element(Record):
    """One thing on screen, from any element provider, as the loop, prompts, marks and
    grounding skills all see it. ``x``/``y`` are the centre in model-image pixels (what a skill
    clicks); ``box`` is the element's extent in screen (input) pixels, as the provider or the
    coordinate map gave it. Names and values are screen text: untrusted data, never
    instructions. Records written before the other fields existed load with their defaults."""

    label: str = Field(default="", description="Mark number drawn on the image ('' = unmarked)")
    role: str = Field(description="push button, menu item, text, entry, check box, box, ...")
    name: str = Field(default="", description="Accessible name or the text read on it")
    value: str = Field(default="", description="Current value (text of a field, a level, ...)")
    states: list[str] = Field(default_factory=list, description="focused, checked, disabled, ...")
    x: int = Field(description="Centre x in pixels of the screenshot the model saw")
    y: int = Field(description="Centre y in pixels of the screenshot the model saw")
    box: tuple[int, int, int, int] | None = Field(
        default=None,
        description="x0, y0, x1, y1 in screen pixels (right/bottom exclusive)",
    )
    source: ElementSource = Field(default="contours", description="Which provider found it")
    actions: list[str] = Field(
        default_factory=list,
        description="Accessibility actions the app offers (press, ...)",
    )
    ref: str = Field(default="", description="The provider's handle to act on it later")


class Observation(Record):
    """What the agent saw at the start of a step (the pixels themselves live in the run folder)."""

    step: int
    screenshot: str = Field(description="Path of the screenshot, relative to the run folder")
    screen_size: tuple[int, int] = Field(description="Device pixels captured (width, height)")
    image_size: tuple[int, int] = Field(description="Pixels of the image the model was shown")
    captured_at: datetime = Field(default_factory=utc_now)
    changed: bool = Field(default=True, description="False when identical to the last step")
    settle_ms: float = Field(
        default=0.0,
        description="Time spent waiting for the screen to come to rest before "
        "this capture (0 when settling is off)",
    )
    settled: bool = Field(
        default=True,
        description="False when the screen was still changing when the wait ran out (--settle)",
    )
    marks_image: str = Field(default="", description="Set-of-mark image shown, if any")
    elements: list[Element] = Field(
        default_factory=list,
        description="Elements of every provider, merged; label is the mark number",
    )
    screen_text: list[ScreenElement] = Field(
        default_factory=list,
        description="Text read on screen (role 'text'), with centres",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="Facts the environment reports (focus lost, ...)",
    )
