"""Tesseract in this process, through ``tesserocr`` (the maintained binding of its C++ API).

Why: a ``tesseract`` process loads its model on every start (~0.1 s quiet, ~0.3 s on a busy
2-core machine), which is most of the cost of reading one changed line. A loaded
``tesserocr`` engine keeps the model: one line band then costs ~20 ms, with the GIL released
while it reads. It is set up as the command is (page segmentation mode, no inversion, 96 dpi)
and reads the traineddata files the ``tesseract`` command uses (found by asking it, or
``TESSDATA_PREFIX``). One engine per language and mode, loaded at first use, guarded by a
lock; when ``tesserocr`` is not installed, ``TesseractOCR`` runs the command instead.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np

from cradle.errors import EnvironmentFailure

TSV_HEADER = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\t"
    "height\tconf\ttext\n"
)
"""The command's first line, which the library leaves out."""
RESOLUTION = 96
"""What a BMP written by Pillow declares, and what the command is given: no guessing."""
KNOWN_TESSDATA = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)

_lock = threading.Lock()
_engines: dict[tuple[str, int], InProcessTesseract | None] = {}


def tessdata_dir() -> str | None:
    """Where the installed models are: ``TESSDATA_PREFIX``, what ``tesseract --list-langs``
    names, or a usual place; None when none is found."""
    given = os.environ.get("TESSDATA_PREFIX")
    if given:
        return given
    binary = shutil.which("tesseract")
    if binary:
        try:
            listed = subprocess.run(
                [binary, "--list-langs"], capture_output=True, text=True, timeout=20
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            listed = ""
        found = re.search(r'"([^"]+)"', listed)
        if found and Path(found.group(1)).is_dir():
            return found.group(1)
    return next((p for p in KNOWN_TESSDATA if Path(p).is_dir()), None)


class InProcessTesseract:
    """One loaded model; ``tsv`` reads one grayscale image at a time (thread-safe)."""

    def __init__(self, api_class: Any, path: str, lang: str, psm: int) -> None:
        self.lock = threading.Lock()
        try:
            self.api = api_class(path=path.rstrip("/") + "/", lang=lang, psm=psm)
        except RuntimeError:
            raise EnvironmentFailure(
                f"tesseract has no model for language {lang!r} in {path}: install it "
                f"(Debian: apt-get install tesseract-ocr-{lang})"
            ) from None
        self.api.SetVariable("tessedit_do_invert", "0")
        atexit.register(self.close)

    def tsv(self, gray: np.ndarray) -> str:
        """Tesseract's TSV for one uint8 image (rows x cols), page number 1."""
        pixels = np.ascontiguousarray(gray, dtype=np.uint8)
        height, width = pixels.shape
        with self.lock:
            if self.api is None:
                raise EnvironmentFailure("tesseract was closed")
            self.api.SetImageBytes(pixels.tobytes(), width, height, 1, width)
            self.api.SetSourceResolution(RESOLUTION)
            found = self.api.GetTSVText(0)
            return TSV_HEADER + (found or "")

    def close(self) -> None:
        with self.lock:
            if self.api is not None:
                self.api.End()
                self.api = None


def engine(lang: str, psm: int) -> InProcessTesseract | None:
    """The loaded engine for ``lang`` and ``psm`` (loaded now if needed), or None when
    ``tesserocr`` or the models are not installed; ``EnvironmentFailure`` when the language
    has no model."""
    key = (lang, psm)
    with _lock:
        if key not in _engines:
            _engines[key] = _load(lang, psm)
        return _engines[key]


def _load(lang: str, psm: int) -> InProcessTesseract | None:
    # tesseract's OpenMP loops make it ~5x slower on small machines; the limit is read once,
    # when the library loads, and put back so apps started later do not inherit it.
    limited = "OMP_THREAD_LIMIT" not in os.environ
    if limited:
        os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        import tesserocr
    except ImportError:
        return None
    finally:
        if limited:
            os.environ.pop("OMP_THREAD_LIMIT", None)
    path = tessdata_dir()
    if path is None:
        return None
    return InProcessTesseract(tesserocr.PyTessBaseAPI, path, lang, psm)
