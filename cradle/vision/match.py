"""Tolerant matching of a target text against what OCR read, for ``click_text``.

OCR is imperfect and models paraphrase case and spacing, so matching is: case-insensitive,
whitespace-normalised, tolerant of small character errors (difflib ratio), and able to aim
at a run of words inside a longer line. Candidates are ranked in tiers, so an exact menu item
"Save" beats the "Save" inside "Save As..." instead of making the call ambiguous:

1. a whole line equal to the target;
2. consecutive words of a line equal to the target;
3. a line or word run similar enough (ratio >= ``threshold``).

Within the best tier, several equally good matches at different places are ambiguous unless
``nth`` (1-based, reading order) picks one. Both failures list what was seen, with positions,
so the model can correct itself.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from cradle.errors import SkillExecutionError
from cradle.perception import TextSpan

DEFAULT_THRESHOLD = 0.75
TIE_MARGIN = 0.04
_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = " .,:;!?…'\"()[]{}<>|*"


def normalize(text: str) -> str:
    """Casefolded, spaces collapsed, edge punctuation dropped ("Save As..." -> "save as")."""
    return _SPACE.sub(" ", text.casefold()).strip().strip(_EDGE_PUNCT).strip()


@dataclass(frozen=True)
class TextMatch:
    """One place where the target was found, box in model-image pixels."""

    text: str
    box: tuple[int, int, int, int]
    score: float
    tier: int

    @property
    def center(self) -> tuple[int, int]:
        return (self.box[0] + self.box[2]) // 2, (self.box[1] + self.box[3]) // 2


class TextNotFound(SkillExecutionError):
    """The target text is not on screen (nothing similar enough)."""


class TextAmbiguous(SkillExecutionError):
    """The target text is on screen more than once, equally well."""


def _union(spans: list[TextSpan]) -> tuple[int, int, int, int]:
    return (
        min(s.box[0] for s in spans),
        min(s.box[1] for s in spans),
        max(s.box[2] for s in spans),
        max(s.box[3] for s in spans),
    )


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def candidates(
    target: str,
    lines: list[TextSpan],
    line_words: list[list[TextSpan]],
    threshold: float = DEFAULT_THRESHOLD,
) -> list[TextMatch]:
    """Every line or word run that matches ``target``, best first, overlapping ones removed."""
    want = normalize(target)
    if not want:
        return []
    n = len(want.split(" "))
    found: list[TextMatch] = []
    for index, line in enumerate(lines):
        norm = normalize(line.text)
        if norm == want:
            found.append(TextMatch(line.text, line.box, 1.0, 1))
            continue
        words = line_words[index] if index < len(line_words) else []
        for size in range(max(1, n - 1), n + 2):
            for start in range(0, len(words) - size + 1):
                run = words[start : start + size]
                text = " ".join(w.text for w in run)
                got = normalize(text)
                if got == want:
                    found.append(TextMatch(text, _union(run), 1.0, 2))
                    continue
                ratio = difflib.SequenceMatcher(None, want, got).ratio()
                if ratio >= threshold:
                    found.append(TextMatch(text, _union(run), ratio, 3))
        ratio = difflib.SequenceMatcher(None, want, norm).ratio()
        if ratio >= threshold:
            found.append(TextMatch(line.text, line.box, ratio, 3))
    found.sort(key=lambda m: (m.tier, -m.score))
    kept: list[TextMatch] = []
    for match in found:
        if not any(_overlaps(match.box, k.box) for k in kept):
            kept.append(match)
    return kept


def closest_texts(target: str, lines: list[TextSpan], limit: int = 5) -> list[TextSpan]:
    """The lines most similar to ``target``, for a helpful 'not found' message."""
    want = normalize(target)

    def score(span: TextSpan) -> float:
        norm = normalize(span.text)
        best = difflib.SequenceMatcher(None, want, norm).ratio()
        return 1.0 if want and want in norm else best

    return sorted(lines, key=score, reverse=True)[:limit]


def _where(span: TextSpan | TextMatch) -> str:
    x, y = span.center
    return f"{span.text!r} at ({x}, {y})"


def find_text(
    target: str,
    lines: list[TextSpan],
    line_words: list[list[TextSpan]] | None = None,
    *,
    nth: int = 0,
    threshold: float = DEFAULT_THRESHOLD,
) -> TextMatch:
    """The one place showing ``target``; ``nth`` >= 1 picks among several in reading order.

    Raises ``TextNotFound`` listing the closest texts seen, or ``TextAmbiguous`` listing the
    equally good matches with their positions.
    """
    if nth < 0:
        raise SkillExecutionError(f"nth must be 0 (the only match) or 1, 2, ...; got {nth}")
    words = line_words if line_words is not None else [[line] for line in lines]
    matches = candidates(target, lines, words, threshold)
    if not matches:
        if not lines:
            raise TextNotFound(f"text {target!r} not found: no text was read on the screen")
        seen = ", ".join(_where(s) for s in closest_texts(target, lines))
        raise TextNotFound(f"text {target!r} not found on the screen; closest texts: {seen}")
    best = matches[0]
    top = [m for m in matches if m.tier == best.tier and m.score >= best.score - TIE_MARGIN]
    top.sort(key=lambda m: (m.box[1] // 8, m.box[0]))
    if nth == 0:
        if len(top) > 1:
            listed = ", ".join(_where(m) for m in top[:8])
            raise TextAmbiguous(
                f"text {target!r} appears {len(top)} times: {listed}; pass nth=1..{len(top)} "
                "(reading order) or a longer text"
            )
        return top[0]
    if nth > len(top):
        listed = ", ".join(_where(m) for m in top[:8])
        raise TextNotFound(f"nth={nth} but text {target!r} appears {len(top)} time(s): {listed}")
    return top[nth - 1]
