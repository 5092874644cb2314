"""Tesseract in this process, through the C API of the library the ``tesseract`` command uses.

Why: a ``tesseract`` process loads its model on every start (~0.1 s quiet, ~0.3 s on a busy
2-core machine), which is most of the cost of reading one changed line. The C API of
``libtesseract`` (installed with the command, Debian ``libtesseract5``) keeps the model loaded:
one line band then costs ~20 ms. It is called through ``ctypes`` (no binding to build, the
GIL is released while it works), with the same settings as the command (page segmentation
mode, no inversion, 96 dpi, one OpenMP thread) and gives the same TSV, word for word (checked
by the tests). One engine per language and mode, loaded at first use, guarded by a lock;
when the library cannot be loaded, ``TesseractOCR`` runs the command instead.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import threading

import numpy as np

from cradle.errors import EnvironmentFailure

LIBRARY_NAMES = ("libtesseract.so.5", "libtesseract.5.dylib", "libtesseract-5.dll")
TSV_HEADER = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\t"
              "height\tconf\ttext\n")
"""The command's first line, which the library leaves out."""
LEPTONICA_SILENT = 6
"""``L_SEVERITY_NONE``: leptonica prints nothing."""
RESOLUTION = 96
"""What a BMP written by Pillow declares, and what the command is given: no guessing."""

_lock = threading.Lock()
_engines: dict[tuple[str, int], InProcessTesseract | None] = {}


def _library() -> ctypes.CDLL | None:
    names = list(LIBRARY_NAMES)
    found = ctypes.util.find_library("tesseract")
    if found:
        names.append(found)
    for name in names:
        try:
            lib = _load(name)
        except OSError:
            continue
        _declare(lib)
        _quiet_leptonica()
        return lib
    return None


def _load(name: str) -> ctypes.CDLL:
    """Load with ``OMP_THREAD_LIMIT=1`` (unless set): OpenMP reads it once, when it loads
    with the library, and tesseract's parallel loops ask for their own thread counts, which
    only this limit caps. The variable is put back, so apps started later do not inherit it."""
    if "OMP_THREAD_LIMIT" in os.environ:
        return ctypes.CDLL(name)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        return ctypes.CDLL(name)
    finally:
        os.environ.pop("OMP_THREAD_LIMIT", None)


def _quiet_leptonica() -> None:
    """Leptonica (under tesseract) prints warnings such as "Error in boxClipToRectangle" on
    stderr for harmless cases; the command's stderr was discarded, ours is the user's."""
    for name in ("liblept.so.5", "libleptonica.so.6", ctypes.util.find_library("lept")):
        if not name:
            continue
        try:
            ctypes.CDLL(name).setMsgSeverity(LEPTONICA_SILENT)
            return
        except (OSError, AttributeError):
            continue


def _declare(lib: ctypes.CDLL) -> None:
    handle, text, integer = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    lib.TessBaseAPICreate.restype = handle
    lib.TessBaseAPIInit3.argtypes = [handle, text, text]
    lib.TessBaseAPISetPageSegMode.argtypes = [handle, integer]
    lib.TessBaseAPISetVariable.argtypes = [handle, text, text]
    lib.TessBaseAPISetImage.argtypes = [handle, text, integer, integer, integer, integer]
    lib.TessBaseAPISetSourceResolution.argtypes = [handle, integer]
    lib.TessBaseAPIGetTsvText.argtypes = [handle, integer]
    lib.TessBaseAPIGetTsvText.restype = ctypes.c_void_p
    lib.TessDeleteText.argtypes = [ctypes.c_void_p]
    lib.TessBaseAPIEnd.argtypes = [handle]
    lib.TessBaseAPIDelete.argtypes = [handle]


def _one_thread() -> None:
    """OpenMP threads make tesseract ~5x slower on small machines (as OMP_THREAD_LIMIT=1)."""
    try:
        ctypes.CDLL("libgomp.so.1").omp_set_num_threads(1)
    except (OSError, AttributeError):
        pass


class InProcessTesseract:
    """One loaded model; ``tsv`` reads one grayscale image at a time (thread-safe)."""

    def __init__(self, lib: ctypes.CDLL, lang: str, psm: int) -> None:
        self.lib = lib
        self.lock = threading.Lock()
        self.api = lib.TessBaseAPICreate()
        if lib.TessBaseAPIInit3(self.api, None, lang.encode()) != 0:
            lib.TessBaseAPIDelete(self.api)
            self.api = None
            raise EnvironmentFailure(
                f"tesseract has no model for language {lang!r}: install it (Debian: "
                f"apt-get install tesseract-ocr-{lang})")
        lib.TessBaseAPISetPageSegMode(self.api, psm)
        lib.TessBaseAPISetVariable(self.api, b"tessedit_do_invert", b"0")
        atexit.register(self.close)

    def tsv(self, gray: np.ndarray) -> str:
        """Tesseract's TSV for one uint8 image (rows x cols), page number 1."""
        pixels = np.ascontiguousarray(gray, dtype=np.uint8)
        height, width = pixels.shape
        with self.lock:
            if self.api is None:
                raise EnvironmentFailure("tesseract was closed")
            _one_thread()
            self.lib.TessBaseAPISetImage(self.api, pixels.tobytes(), width, height, 1, width)
            self.lib.TessBaseAPISetSourceResolution(self.api, RESOLUTION)
            found = self.lib.TessBaseAPIGetTsvText(self.api, 0)
            if not found:
                raise EnvironmentFailure("tesseract could not read the screen")
            try:
                return TSV_HEADER + ctypes.string_at(found).decode("utf-8", "replace")
            finally:
                self.lib.TessDeleteText(found)

    def close(self) -> None:
        with self.lock:
            if self.api is not None:
                self.lib.TessBaseAPIEnd(self.api)
                self.lib.TessBaseAPIDelete(self.api)
                self.api = None


def engine(lang: str, psm: int) -> InProcessTesseract | None:
    """The loaded engine for ``lang`` and ``psm`` (loaded now if needed), or None when the
    library is not installed; ``EnvironmentFailure`` when the language has no model."""
    key = (lang, psm)
    with _lock:
        if key not in _engines:
            lib = _library()
            _engines[key] = InProcessTesseract(lib, lang, psm) if lib is not None else None
        return _engines[key]
