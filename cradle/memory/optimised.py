"""The MiniLM ONNX session, opened from optimised copies kept in the user's cache folder.

The packaged model stores its weights as int8 that a Cast and a Mul turn into float32, so
onnxruntime's optimiser folds them into 90 MB of float32 weights every time it opens the
file: ~0.5 s, and ~215 MB of memory at its peak. So the cache folder holds, written once per
model file and onnxruntime version:

* ``model.onnx`` + ``weights.bin``: the optimised float32 model (weights in a file of their
  own), opened as it is: ~0.2 s, the same vectors as the packaged model;
* ``int8.onnx`` + ``int8-weights.bin``: that model with its weights quantised to int8
  (onnxruntime's dynamic quantisation), the default: ~40 MB less resident memory once
  loaded (156 vs 195 MB for the store and model), ~0.1 s to open, faster
  queries and the same paraphrase retrieval (top-1 0.73 vs 0.70, top-3 0.90 both), but not
  the same vectors (cosine ~0.96 to float32), hence its own embedder name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime

CACHE_ENV = "CRADLE_CACHE_DIR"
"""Environment variable naming the folder for the optimised MiniLM copy (default: the
user's cache folder, ``~/.cache/cradle`` on Linux)."""
PROVIDERS = ["CPUExecutionProvider"]
CACHE_FORMAT = 3
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


FLOAT32_FILE = "model.onnx"
WEIGHTS_FILE = "weights.bin"
INT8_FILE = "int8.onnx"
INT8_WEIGHTS_FILE = "int8-weights.bin"


def open_session(model: Path, threads: int, *, int8: bool = True) -> onnxruntime.InferenceSession:
    """The ONNX session of ``model``'s int8 (default) or float32 copy, from the cache (see
    the module docstring). A damaged copy is rebuilt; when the cache cannot be written the
    copies are made in a temporary folder, which only costs the slower start."""
    name = INT8_FILE if int8 else FLOAT32_FILE
    folder = optimised_folder(model)
    if folder is not None and (folder / name).is_file():
        try:
            return _session(folder / name, threads)
        except Exception:  # noqa: BLE001 - a damaged copy is rebuilt below
            shutil.rmtree(folder, ignore_errors=True)
    building = _building_folder(folder)
    if building is not None and folder is not None:
        try:
            _build(model, building)
            session = _session(building / name, threads)
        except Exception:  # noqa: BLE001 - e.g. a full disk: made in a temporary folder below
            shutil.rmtree(building, ignore_errors=True)
        else:
            _publish(building, folder)
            return session
    return _unsaved_session(model, name, threads, folder)


def _unsaved_session(
    model: Path, name: str, threads: int, folder: Path | None
) -> onnxruntime.InferenceSession:
    """The copies made in a temporary folder, for a cache that cannot be written. The
    session maps its weights file, so the folder's removal is allowed to fail (Windows keeps
    a mapped file); when even this fails, the memory is unavailable, said in one line."""
    try:
        with tempfile.TemporaryDirectory(
            prefix="cradle-minilm-", ignore_cleanup_errors=True
        ) as scratch:
            _build(model, Path(scratch))
            return _session(Path(scratch) / name, threads)
    except Exception as exc:  # noqa: BLE001 - disk full, unwritable temp folder, bad model
        from cradle.errors import MemoryUnavailableError

        where = folder if folder is not None else "the cache folder"
        raise MemoryUnavailableError(
            f"could not prepare the MiniLM model ({type(exc).__name__}: {exc}) in {where} "
            f"or a temporary folder: free disk space or set {CACHE_ENV} to a writable folder"
        ) from exc


def _session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    """A session of an already optimised copy: no optimising again."""
    import onnxruntime as ort

    return ort.InferenceSession(
        str(path), sess_options=_session_options(threads, False), providers=PROVIDERS
    )


def _build(model: Path, folder: Path) -> None:
    """Write both copies of ``model`` into ``folder``: the optimised float32 model with its
    weights beside it, then its int8 quantisation, optimised too (the fused int8 kernels)."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    ort.InferenceSession(
        str(model), sess_options=_saving(folder, FLOAT32_FILE, WEIGHTS_FILE), providers=PROVIDERS
    )
    graph = onnx.load(str(folder / FLOAT32_FILE))
    # The quantiser asks for its pre-processing (shape inference and onnxruntime's
    # optimiser); the optimiser just ran and every shape here is known, so say it is done
    # (otherwise it logs a warning on every first start).
    onnx.helper.set_model_props(graph, {"onnx.quant.pre_process": "onnxruntime.quant"})
    quantised = folder / "int8-unoptimised.onnx"
    quantize_dynamic(graph, quantised, weight_type=QuantType.QInt8)
    del graph
    ort.InferenceSession(
        str(quantised),
        sess_options=_saving(folder, INT8_FILE, INT8_WEIGHTS_FILE),
        providers=PROVIDERS,
    )
    quantised.unlink()


def _saving(folder: Path, name: str, weights: str) -> onnxruntime.SessionOptions:
    """Options that optimise a model and save it as ``name`` in ``folder``, its weights in
    the file ``weights`` beside it: opened later, onnxruntime maps that file instead of
    reading the weights into its own memory (inline int8 weights cost ~50 MB more)."""
    options = _session_options(1, True)
    options.optimized_model_filepath = str(folder / name)
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", weights
    )
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
    )
    return options


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
        names = (FLOAT32_FILE, WEIGHTS_FILE, INT8_FILE, INT8_WEIGHTS_FILE)
        if all((building / name).is_file() for name in names):
            os.rename(building, folder)
    except OSError:
        pass
    shutil.rmtree(building, ignore_errors=True)
