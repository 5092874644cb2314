"""OCR of a screen with tesseract, run as a subprocess: words and lines with boxes.

Why tesseract via subprocess: it is one Debian package (``tesseract-ocr``), needs no Python
binding, works offline and is fast enough when fed well. Measured on 2 cores at 1080p:

* ``OMP_THREAD_LIMIT=1``: OpenMP threads make tesseract ~5x slower on small machines;
* page segmentation mode 11 (sparse text): UI text sits in boxes and buttons, which the
  default mode 3 often treats as pictures (it missed "OK/Cancel/Apply" buttons here; psm 11
  read them and was faster);
* grayscale BMP on stdin: no PNG encode (40 ms at 1080p), no temporary file;
* optionally (``workers`` > 1) the frame is cut into bands at blank rows read by parallel
  processes; off by default: cuts change tesseract's layout analysis and lost words here.

Perception reads a frame differently (``pages``): as line bands, each its own page
(``cradle.vision.bands``, ``cradle.vision.pieces``), in this process through the library when
it loads (``cradle.vision.tesslib``, through tesserocr), so a changed line costs one band, not
the screen.

Words are grouped into lines by tesseract's (block, paragraph, line) numbers and split where
the horizontal gap is wider than about two character heights, so a menu item and its shortcut
("Save   Ctrl+S") become two spans. Boxes are returned in the pixels of the image the model
sees (``scale`` = model pixels per captured pixel).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
from PIL import Image

from cradle.errors import EnvironmentFailure
from cradle.perception import TextSpan
from cradle.vision import tesslib

INSTALL_HINT = "install tesseract (Debian: apt-get install tesseract-ocr tesseract-ocr-eng)"


@dataclass(frozen=True)
class Word:
    """One word as tesseract reports it, box in the pixels of the image read."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float
    line_key: tuple[int, int, int, int]
    """(band, block, paragraph, line): words sharing it are on one tesseract line."""


@dataclass(frozen=True)
class OcrResult:
    """Lines (what the model is told) and words (what ``click_text`` can aim at)."""

    lines: list[TextSpan]
    line_words: list[list[TextSpan]]
    """The words of each line, in the same order as ``lines``."""

    @property
    def words(self) -> list[TextSpan]:
        return [w for line in self.line_words for w in line]


def tesseract_binary() -> str:
    """Path of ``tesseract`` or a one-line ``EnvironmentFailure`` saying how to install it."""
    found = shutil.which("tesseract")
    if not found:
        raise EnvironmentFailure(f"OCR needs tesseract, which is not installed: {INSTALL_HINT}")
    return found


def split_bands(gray: np.ndarray, parts: int, search: float = 0.15) -> list[tuple[int, int]]:
    """Row ranges cutting ``gray`` into ``parts`` bands, each cut on the quietest row nearby.

    A cut through a line of text would garble it, so each cut point moves to the row with
    the least variation within ``search`` of the image height around the even split.
    """
    height = gray.shape[0]
    if parts <= 1 or height < 200:
        return [(0, height)]
    # Variation per row: horizontal gradient sum, cheap and zero on blank rows.
    activity = np.abs(np.diff(gray.astype(np.int16), axis=1)).sum(axis=1)
    window = max(1, int(height * search / parts))
    cuts = [0]
    for k in range(1, parts):
        target = height * k // parts
        lo, hi = max(cuts[-1] + 1, target - window), min(height - 1, target + window)
        if lo >= hi:
            continue
        cuts.append(lo + int(np.argmin(activity[lo:hi])))
    cuts.append(height)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b - a > 8]


def parse_tsv(
    text: str, *, band: int = 0, offset_y: int = 0, min_confidence: float = 30.0
) -> list[Word]:
    """Words from tesseract's TSV output (level 5 rows), shifted down by ``offset_y``."""
    words: list[Word] = []
    for row in text.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        word = cols[11].strip()
        try:
            conf = float(cols[10])
            left, top, w, h = (int(c) for c in cols[6:10])
        except ValueError:
            continue
        if not word or conf < min_confidence:
            continue
        key = (band, int(cols[2]), int(cols[3]), int(cols[4]))
        words.append(Word(word, (left, top + offset_y, left + w, top + offset_y + h), conf, key))
    return words


def group_lines(words: list[Word], gap_factor: float = 2.0) -> list[list[Word]]:
    """Words of each tesseract line, split where the gap exceeds ``gap_factor`` x height."""
    by_key: dict[tuple[int, int, int, int], list[Word]] = {}
    for word in words:
        by_key.setdefault(word.line_key, []).append(word)
    lines: list[list[Word]] = []
    for members in by_key.values():
        members.sort(key=lambda w: w.box[0])
        height = max(w.box[3] - w.box[1] for w in members)
        current = [members[0]]
        for word in members[1:]:
            if word.box[0] - current[-1].box[2] > gap_factor * height:
                lines.append(current)
                current = []
            current.append(word)
        lines.append(current)
    lines.sort(key=lambda ws: (min(w.box[1] for w in ws), ws[0].box[0]))
    return lines


def _scaled(box: tuple[int, int, int, int], sx: float, sy: float) -> tuple[int, int, int, int]:
    return (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))


class TesseractOCR:
    """Reads text on a frame; ``workers`` parallel tesseract processes over horizontal bands."""

    def __init__(
        self,
        *,
        lang: str = "eng",
        psm: int = 11,
        workers: int | None = None,
        min_confidence: float = 30.0,
        timeout: float = 60.0,
        in_process: bool = True,
    ) -> None:
        self.lang = lang
        self.psm = psm
        self.workers = max(1, workers or 1)
        self.min_confidence = min_confidence
        self.timeout = timeout
        self.in_process = in_process
        """``pages`` uses the library in this process when it loads (``cradle.vision.tesslib``)."""

    def _command(self) -> list[str]:
        return [
            tesseract_binary(),
            "stdin",
            "stdout",
            "-l",
            self.lang,
            "--psm",
            str(self.psm),
            "-c",
            "tessedit_do_invert=0",
            "tsv",
        ]

    def words(self, image: Image.Image) -> list[Word]:
        """Every word read on ``image``, boxes in its pixels."""
        gray = np.asarray(image.convert("L"))
        bands = split_bands(gray, self.workers)
        procs = []
        for top, bottom in bands:
            buffer = io.BytesIO()
            Image.fromarray(gray[top:bottom]).save(buffer, format="BMP")
            procs.append((self._start(), buffer.getvalue(), top))
        words: list[Word] = []
        for band, (proc, data, top) in enumerate(procs):
            words.extend(
                parse_tsv(
                    self._finish(proc, data),
                    band=band,
                    offset_y=top,
                    min_confidence=self.min_confidence,
                )
            )
        return words

    def pages(self, images: list[np.ndarray]) -> list[list[Word]]:
        """The words of each grayscale image, each read as its own page (boxes in its pixels).

        In this process when the library loads (``cradle.vision.tesslib``: no model load per
        call), else one multi-page TIFF per ``tesseract`` process (up to ``workers``
        processes, contiguous runs of pages). Either way tesseract reads every page on its
        own, so a page's words do not depend on the other pages read with it, and the two
        ways give the same words. 96 dpi is written into the file, as a BMP carries it, so
        tesseract does not guess a resolution from the (small) page.
        """
        if not images:
            return []
        loaded = tesslib.engine(self.lang, self.psm) if self.in_process else None
        if loaded is not None:
            return [
                parse_tsv(loaded.tsv(image), band=i, min_confidence=self.min_confidence)
                for i, image in enumerate(images)
            ]
        chunks = _chunks(len(images), self.workers)
        procs = []
        for start, stop in chunks:
            buffer = io.BytesIO()
            pages = [Image.fromarray(a) for a in images[start:stop]]
            pages[0].save(
                buffer, format="TIFF", save_all=True, append_images=pages[1:], dpi=(96, 96)
            )
            procs.append((self._start(), buffer.getvalue(), start))
        found: list[list[Word]] = [[] for _ in images]
        for proc, data, start in procs:
            for page, text in split_pages(self._finish(proc, data)).items():
                if 1 <= page <= len(images) - start:
                    found[start + page - 1] = parse_tsv(
                        text, band=start + page - 1, min_confidence=self.min_confidence
                    )
        return found

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self._command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )

    def _finish(self, proc: subprocess.Popen[bytes], data: bytes) -> str:
        """Feed ``data`` to a started tesseract and return its TSV, or a one-line error."""
        try:
            out, err = proc.communicate(data, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise EnvironmentFailure(f"tesseract took longer than {self.timeout:g} s") from None
        if proc.returncode != 0:
            message = err.decode("utf-8", "replace").strip().splitlines()
            raise EnvironmentFailure(
                f"tesseract failed: {message[-1] if message else proc.returncode}"
            )
        return out.decode("utf-8", "replace")

    def read(self, image: Image.Image, scale: tuple[float, float] = (1.0, 1.0)) -> OcrResult:
        """Lines and words on ``image``; boxes multiplied by ``scale`` (to model pixels)."""
        return ocr_result(self.words(image), scale)


def ocr_result(words: list[Word], scale: tuple[float, float] = (1.0, 1.0)) -> OcrResult:
    """Words grouped into lines (``group_lines``), boxes multiplied by ``scale``."""
    sx, sy = scale
    lines: list[TextSpan] = []
    line_words: list[list[TextSpan]] = []
    for members in group_lines(words):
        x0 = min(w.box[0] for w in members)
        y0 = min(w.box[1] for w in members)
        x1 = max(w.box[2] for w in members)
        y1 = max(w.box[3] for w in members)
        conf = sum(w.confidence for w in members) / len(members) / 100.0
        lines.append(
            TextSpan(
                " ".join(w.text for w in members), _scaled((x0, y0, x1, y1), sx, sy), round(conf, 3)
            )
        )
        line_words.append(
            [
                TextSpan(w.text, _scaled(w.box, sx, sy), round(w.confidence / 100.0, 3))
                for w in members
            ]
        )
    return OcrResult(lines, line_words)


def split_pages(text: str) -> dict[int, str]:
    """Tesseract's TSV of several pages cut into one TSV (header included) per page number."""
    rows = text.splitlines()
    if not rows:
        return {}
    pages: dict[int, list[str]] = {}
    for row in rows[1:]:
        cols = row.split("\t", 2)
        if len(cols) > 1 and cols[1].isdigit():
            pages.setdefault(int(cols[1]), [rows[0]]).append(row)
    return {page: "\n".join(lines) for page, lines in pages.items()}


def _chunks(count: int, parts: int) -> list[tuple[int, int]]:
    """``count`` items cut into at most ``parts`` contiguous ``(start, stop)`` runs."""
    parts = max(1, min(parts, count))
    bounds = [count * k // parts for k in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
