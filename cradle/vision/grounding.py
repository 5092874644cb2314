"""Where grounding skills get their perception: the step's own, or a fresh one on the spot.

The loop puts the perception of the frame the model saw in ``SkillContext.perception``.
A grounding skill uses it while it still matches the screen (same frame digest), because
then its boxes are exactly what the model was shown. When there is none
(an environment without a perceiver, such as the mocks) or the screen changed since (an
earlier action in the same step opened a menu), the skill captures and perceives on the spot,
running only the stage it needs (OCR for ``click_text``; the accessibility tree, when the
environment reads one, is cheap and always read along). The last on-the-spot result is
cached by frame digest, so two ``click_text`` calls on an unchanged screen read it once.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PIL import Image

from cradle.elements.accessibility import AccessibilityProvider
from cradle.elements.base import INTERACTIVE_ROLES, image_box
from cradle.elements.merge import is_target
from cradle.perception import Perception, TextSpan
from cradle.vision.match import normalize
from cradle.vision.perceiver import VisionPerceiver, VisionPerception, frame_digest

_lock = threading.Lock()
_cache: dict[str, tuple[VisionPerceiver, VisionPerception]] = {}
_default = VisionPerceiver()


def _shown(frame: Image.Image, size: tuple[int, int]) -> Image.Image:
    if frame.size == size:
        return frame
    return frame.resize(size, Image.Resampling.BILINEAR)


def _perceiver(ctx: Any) -> VisionPerceiver:
    """The environment's own perceiver when it is a ``VisionPerceiver`` (same OCR settings)."""
    found = ctx.episode.perceiver
    return found if isinstance(found, VisionPerceiver) else _default


def _has(perception: VisionPerception, need: str) -> bool:
    return {
        "text": perception.ocr_done,
        "marks": perception.marks_done,
        "tree": perception.tree_done,
    }[need]


def current_perception(ctx: Any, *, need: str) -> VisionPerception:
    """A perception of the screen as it is now, with ``need`` ("text", "marks" or "tree")
    in it; the environment's accessibility tree is read along whenever it has one."""
    frame = ctx.capture()
    digest = frame_digest(frame)
    given = ctx.perception
    if isinstance(given, VisionPerception) and given.frame_digest == digest and _has(given, need):
        return given
    key = f"{digest}:{need}:{ctx.mapping.image_size}"
    perceiver = _perceiver(ctx)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] is perceiver:  # another episode's may read no tree
        return cached[1]
    shown = _shown(frame, ctx.mapping.image_size)
    fresh = perceiver.run(
        frame, shown, marks=need == "marks", ocr=need == "text", mapping=ctx.mapping
    )
    with _lock:
        _cache.clear()
        _cache[key] = (perceiver, fresh)
    return fresh


def shown_perception(ctx: Any) -> Perception | None:
    """The perception whose marks the model saw this step, if any."""
    given = ctx.perception
    return given if isinstance(given, Perception) else None


def image_folders(ctx: Any) -> list[Path]:
    """Where ``click_image`` looks for icons: ``extras["images"]``, then the environment's."""
    folders: list[Path] = []
    extra = ctx.extras.get("images")
    if extra:
        folders.extend(Path(p) for p in (extra if isinstance(extra, list | tuple) else [extra]))
    folder = getattr(ctx.episode.environment, "folder", None)
    if folder is not None:
        folders.append(Path(folder) / "images")
    return folders


def named_spans(perception: VisionPerception, ctx: Any) -> list[TextSpan]:
    """Accessible names of the elements on screen as text spans in model-image pixels, so
    ``click_text`` finds an icon-only button by its name as if the name were drawn on it."""
    spans: list[TextSpan] = []
    for element in perception.accessible:
        if element.name and is_target(element):
            spans.append(TextSpan(element.name, image_box(element, ctx.mapping)))
    return spans


def exactly_named(perception: VisionPerception, ctx: Any, text: str) -> list[TextSpan]:
    """Spans of the elements whose accessible name is ``text`` (normalised), the ones a user
    acts on first: a field named "Email" before the label "Email" that names it."""
    want = normalize(text)
    found = [
        e for e in perception.accessible if e.name and is_target(e) and normalize(e.name) == want
    ]
    acted_on = [e for e in found if e.role in INTERACTIVE_ROLES or e.actions]
    return [TextSpan(e.name, image_box(e, ctx.mapping)) for e in (acted_on or found)]


def accessibility_of(ctx: Any) -> AccessibilityProvider | None:
    """The environment's accessibility provider (also the ``ElementActor``), if it reads one."""
    found = ctx.episode.perceiver
    return found.accessibility if isinstance(found, VisionPerceiver) else None
