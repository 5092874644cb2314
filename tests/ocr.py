"""OCR for tests that check what a person would read on a screenshot (tesseract)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from PIL import Image


def ocr_text(image: Image.Image) -> str:
    """Text tesseract reads on ``image``; fails (never skips) when tesseract is missing."""
    binary = shutil.which("tesseract")
    assert binary, "tesseract is not installed: run tests/run.sh (installs tesseract-ocr)"
    with tempfile.NamedTemporaryFile(suffix=".png") as handle:
        image.save(handle.name)
        result = subprocess.run(
            [binary, handle.name, "-", "--psm", "3"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    assert result.returncode == 0, result.stderr
    return result.stdout
