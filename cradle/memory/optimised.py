"""The MiniLM ONNX session, opened from an optimised copy kept in the user's cache folder.

The packaged model stores its weights as int8 that a Cast and a Mul turn into float32, so
onnxruntime's optimiser folds them into 90 MB of float32 weights every time it opens the
file: ~0.5 s, and ~215 MB of memory at its peak. The optimised model is written once (its
weights in a file of their own) and later opened as it is: ~0.2 s and ~55 MB, the same
vectors, the weights read from the file as they are used.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime

CACHE_ENV = "CRADLE_CACHE_DIR"
"""Environment variable naming the folder for the optimised MiniLM copy (default: the
user's cache folder, ``~/.cache/cradle`` on Linux)."""
CACHE_FORMAT = 1
"""Bumped when the layout of the cached optimised model changes."""


def cache_dir() -> Path:
    """``$CRADLE_CACHE_DIR``, else ``cradle`` in the platform's per-user cache folder
    (``$XDG_CACHE_HOME`` or ~/.cache, ~/Library/Caches on macOS, LOCALAPPDATA on Windows)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "cradle"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "cradle" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "cradle"
    return Path.home() / ".cache" / "cradle"


def optimised_folder(model: Path) -> Path | None:
    """Where the optimised copy of ``model`` is kept: one folder per model file (path, size,
    mtime) and onnxruntime version, so an upgrade of either builds a new one."""
    import onnxruntime as ort

    try:
        stat = model.stat()
    except OSError:
        return None
    parts = (CACHE_FORMAT, model.resolve(), stat.st_size, stat.st_mtime_ns, ort.__version__)
    key = "\n".join(str(part) for part in parts)
    return cache_dir() / "minilm" / hashlib.sha256(key.encode()).hexdigest()[:16]


def _session_options(threads: int, optimise: bool) -> onnxruntime.SessionOptions:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        if optimise
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    options.log_severity_level = 3
    return options


def open_session(model: Path, threads: int) -> onnxruntime.InferenceSession:
    """The ONNX session, from the optimised copy in the cache when there is one (see the
    module docstring). A damaged copy is rebuilt; a cache that cannot be written only costs
    the slower start."""
    import onnxruntime as ort

    providers = ["CPUExecutionProvider"]
    folder = optimised_folder(model)
    if folder is not None and (folder / "model.onnx").is_file():
        try:
            return ort.InferenceSession(
                str(folder / "model.onnx"),
                sess_options=_session_options(threads, False),
                providers=providers,
            )
        except Exception:  # noqa: BLE001 - a damaged copy is rebuilt below
            shutil.rmtree(folder, ignore_errors=True)
    options = _session_options(threads, True)
    building = _building_folder(folder)
    if building is not None:
        options.optimized_model_filepath = str(building / "model.onnx")
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_file_name", "weights.bin"
        )
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
        )
    try:
        session = ort.InferenceSession(str(model), sess_options=options, providers=providers)
    except Exception:
        if building is None:
            raise
        shutil.rmtree(building, ignore_errors=True)  # e.g. a full disk: open it unsaved
        return ort.InferenceSession(
            str(model), sess_options=_session_options(threads, True), providers=providers
        )
    if building is not None and folder is not None:
        _publish(building, folder)
    return session


def _building_folder(folder: Path | None) -> Path | None:
    """A private folder beside ``folder`` to write the optimised model into, or None."""
    if folder is None:
        return None
    building = folder.with_name(f".{folder.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
    except OSError:
        return None
    return building


def _publish(building: Path, folder: Path) -> None:
    """Move a finished copy into place in one rename; another process that got there first
    wins, and an unwritable cache leaves nothing behind."""
    try:
        if (building / "model.onnx").is_file() and (building / "weights.bin").is_file():
            os.rename(building, folder)
    except OSError:
        pass
    shutil.rmtree(building, ignore_errors=True)
