"""Where grounding skills get their perception: the step's own, or a fresh one on the spot.

The loop puts the perception of the frame the model saw in ``SkillContext.perception``.
A grounding skill uses it while it still matches the screen (same frame digest), because
then its boxes are exactly what the model was shown. When there is none
(an environment without a perceiver, such as the mocks) or the screen changed since (an
earlier action in the same step opened a menu), the skill captures and perceives on the spot,
running only the stage it needs (OCR for ``click_text``; the accessibility tree, when the
environment reads one, is cheap and always read along). The last on-the-spot result is
kept by the episode (``EpisodeView.spot``) by frame digest, so two ``click_text`` calls on an
unchanged screen read it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from cradle.elements.accessibility import AccessibilityProvider
from cradle.elements.base import INTERACTIVE_ROLES, image_box
from cradle.elements.merge import is_target
from cradle.perception import Perception, TextSpan
from cradle.vision.match import normalize
from cradle.vision.perceiver import VisionPerceiver, VisionPerception, frame_digest

if TYPE_CHECKING:
    from cradle.skills.context import SkillContext


def _shown(frame: Image.Image, size: tuple[int, int]) -> Image.Image:
    if frame.size == size:
        return frame
    return frame.resize(size, Image.Resampling.BILINEAR)


def _perceiver(ctx: SkillContext) -> VisionPerceiver:
    """The environment's own perceiver when it is a ``VisionPerceiver`` (same OCR settings),
    else the episode's default one, made on first use."""
    found = ctx.episode.perceiver
    if isinstance(found, VisionPerceiver):
        return found
    spot = ctx.episode.spot
    with spot.lock:
        if spot.fallback is None:
            spot.fallback = VisionPerceiver()
        return spot.fallback


def _has(perception: VisionPerception, need: str) -> bool:
    return {
        "text": perception.ocr_done,
        "marks": perception.marks_done,
        "tree": perception.tree_done,
    }[need]


def current_perception(ctx: SkillContext, *, need: str) -> VisionPerception:
    """A perception of the screen as it is now, with ``need`` ("text", "marks" or "tree")
    in it; the environment's accessibility tree is read along whenever it has one."""
    frame = ctx.capture()
    digest = frame_digest(frame)
    given = ctx.perception
    if isinstance(given, VisionPerception) and given.frame_digest == digest and _has(given, need):
        return given
    key = f"{digest}:{need}:{ctx.mapping.image_size}"
    perceiver = _perceiver(ctx)
    spot = ctx.episode.spot
    with spot.lock:
        if spot.key == key and spot.perceiver is perceiver and spot.perception is not None:
            return spot.perception
    shown = _shown(frame, ctx.mapping.image_size)
    fresh = perceiver.run(
        frame, shown, marks=need == "marks", ocr=need == "text", mapping=ctx.mapping
    )
    with spot.lock:
        spot.key, spot.perceiver, spot.perception = key, perceiver, fresh
    return fresh


def shown_perception(ctx: SkillContext) -> Perception | None:
    """The perception whose marks the model saw this step, if any."""
    given = ctx.perception
    return given if isinstance(given, Perception) else None


def image_folders(ctx: SkillContext) -> list[Path]:
    """Where ``click_image`` looks for icons: the episode's extra folders, then the
    environment's images/."""
    folders = list(ctx.episode.image_folders)
    folder = getattr(ctx.episode.environment, "folder", None)
    if folder is not None:
        folders.append(Path(folder) / "images")
    return folders


def named_spans(perception: VisionPerception, ctx: SkillContext) -> list[TextSpan]:
    """Accessible names of the elements on screen as text spans in model-image pixels, so
    ``click_text`` finds an icon-only button by its name as if the name were drawn on it."""
    spans: list[TextSpan] = []
    for element in perception.accessible:
        if element.name and is_target(element):
            spans.append(TextSpan(element.name, image_box(element, ctx.mapping)))
    return spans


def exactly_named(perception: VisionPerception, ctx: SkillContext, text: str) -> list[TextSpan]:
    """Spans of the elements whose accessible name is ``text`` (normalised), the ones a user
    acts on first: a field named "Email" before the label "Email" that names it."""
    want = normalize(text)
    found = [
        e for e in perception.accessible if e.name and is_target(e) and normalize(e.name) == want
    ]
    acted_on = [e for e in found if e.role in INTERACTIVE_ROLES or e.actions]
    return [TextSpan(e.name, image_box(e, ctx.mapping)) for e in (acted_on or found)]


def accessibility_of(ctx: SkillContext) -> AccessibilityProvider | None:
    """The environment's accessibility provider (also the ``ElementActor``), if it reads one."""
    found = ctx.episode.perceiver
    return found.accessibility if isinstance(found, VisionPerceiver) else None
