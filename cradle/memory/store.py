"""Long-term memory in chromadb: past steps, lessons, run summaries and the skill index.

One class, ``VectorMemory``, works the same on an embedded store (a folder, the default) and
on a shared ``chroma run`` server: only the client differs, so every behaviour is tested on
both. Vectors are always computed here and handed to chromadb (``embeddings=`` and
``query_embeddings=``); collections are created without an embedding function, so no call
can ever fall back to chromadb's default embedder, which downloads a model at first use.

Each collection records the embedder that filled it (name and dimension). Opening it with
another embedder is an error: vectors from two models are not comparable, and mixing them
would quietly return nonsense.

chromadb is imported on first use, not at import time (it takes ~0.7 s to import).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from cradle.errors import (
    ConfigError,
    CradleError,
    MemoryStoreError,
    MemoryUnavailableError,
    UsageError,
)
from cradle.types import MemoryItem, StepRecord, utc_now

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from cradle.memory.embedders import Embedder
    from cradle.memory.skill_index import SkillIndex

MEMORIES = "cradle_memories"
"""Collection of steps, lessons and run summaries."""
SKILLS = "cradle_skills"
"""Collection of skill descriptions, one entry per skill name and description."""
STORE_FORMAT = 1
"""Bumped when the layout of what cradle writes changes."""
MAX_CHUNK = 4000
"""Upper bound for one add/delete call; chromadb's own limit (~5,461) is also respected."""
QUERY_TRIES = 10
"""A Chroma server (1.5) answers a query that races the first write into a collection with
"Nothing found on disk" for a few milliseconds (several workers on one server see it): such a
query is tried again, 50 ms apart, this many times in all."""
_FIELD_CHARS = 400
_SQLITE_MAGIC = b"SQLite format 3\x00"


# --------------------------------------------------------------------------- budget


def estimate_tokens(text: str) -> int:
    """Tokens in ``text``, roughly: four characters a token is close enough for budgeting."""
    return math.ceil(len(text) / 4)


def fit_to_budget(items: Sequence[MemoryItem], max_tokens: int) -> list[MemoryItem]:
    """The items, best first as given, that fit in ``max_tokens`` together.

    An item too large for what is left is skipped and smaller ones after it may still fit:
    recalled memory is a hint for the model, so a prompt must never grow because of it.
    """
    kept: list[MemoryItem] = []
    used = 0
    for item in items:
        cost = estimate_tokens(item.text)
        if used + cost <= max_tokens:
            kept.append(item)
            used += cost
    return kept


# --------------------------------------------------------------------------- texts and ids


def _clip(text: str, limit: int = _FIELD_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def step_success(record: StepRecord) -> bool:
    """A step succeeded when every action ran ok and the loop recorded no error."""
    return all(outcome.status == "ok" for outcome in record.actions) and not record.errors


def step_text(task: str, record: StepRecord) -> str:
    """The compact text a step is remembered (and embedded) as."""
    lines = [f"Task: {_clip(task)}"]
    if record.task_inference and record.task_inference.subtask:
        lines.append(f"Subtask: {_clip(record.task_inference.subtask)}")
    if record.actions:
        parts = [
            f"{outcome.source} -> {outcome.status}"
            + (f" ({_clip(outcome.error, 160)})" if outcome.error else "")
            for outcome in record.actions
        ]
        lines.append("Actions: " + _clip("; ".join(parts), 2 * _FIELD_CHARS))
    elif record.action_planning and record.action_planning.actions:
        lines.append("Planned: " + _clip("; ".join(record.action_planning.actions)))
    if record.errors:
        lines.append("Errors: " + _clip("; ".join(record.errors)))
    reflection = record.self_reflection
    if reflection and (reflection.analysis or reflection.failure_reason):
        text = reflection.analysis
        if not reflection.last_actions_succeeded and reflection.failure_reason:
            text = f"{text} Failed because: {reflection.failure_reason}".strip()
        lines.append("Reflection: " + _clip(text))
    return "\n".join(lines)


def memory_id(kind: str, run_id: str, step: int | None = None) -> str:
    """Deterministic ids, so re-adding a step (a resumed run) replaces instead of duplicating."""
    return f"{kind}:{run_id}" + (f":{step}" if step is not None else "")


# --------------------------------------------------------------------------- clients


def parse_memory_url(url: str) -> tuple[str, int, bool]:
    """Host, port and TLS flag of a chroma server URL such as ``http://127.0.0.1:8000``."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"bad memory server URL {url!r}: use http://HOST:PORT")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"bad port in memory server URL {url!r}") from None
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else 8000), ssl


def _unreachable(url: str) -> MemoryUnavailableError:
    return MemoryUnavailableError(
        f"cannot reach the memory server at {url}: is `chroma run` running?"
    )


def _is_connection_error(exc: BaseException) -> bool:
    """True for the ways chromadb and httpx report a server that is not there."""
    import httpx

    if isinstance(exc, httpx.TransportError | ConnectionError):
        return True
    return isinstance(exc, ValueError) and "could not connect" in str(exc).lower()


def _check_memory_dir(path: Path, *, create: bool) -> None:
    """Refuse folders that are not chroma stores; create a missing one only when asked.

    chromadb would happily put its files into any folder; a typo in ``--memory-dir`` must
    not turn someone's documents folder into a database.
    """
    if path.exists() and not path.is_dir():
        raise MemoryStoreError(f"memory dir {path} is a file, not a folder")
    if not path.exists():
        if not create:
            raise MemoryStoreError(f"no memory store at {path} yet (a run with memory creates it)")
        path.mkdir(parents=True, exist_ok=True)
        return
    sqlite = path / "chroma.sqlite3"
    entries = [entry for entry in path.iterdir() if entry.name != ".DS_Store"]
    if entries and not sqlite.exists():
        raise MemoryStoreError(
            f"{path} is not a memory store: it holds other files and no chroma.sqlite3; "
            "choose an empty or new folder"
        )
    if sqlite.exists() and sqlite.stat().st_size:
        with sqlite.open("rb") as handle:
            if handle.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                raise MemoryStoreError(
                    f"{sqlite} is not an SQLite database (corrupt memory store); "
                    "nothing was changed: move it away or choose another --memory-dir"
                )


def check_memory_folder(path: Path) -> None:
    """Refuse a folder that is not a memory store (a missing one is created), without
    opening it: for a process that only hands the folder to the ones that write it."""
    _check_memory_dir(Path(path).expanduser(), create=True)


HTTP_TIMEOUT_S = 60.0
"""chromadb's HttpClient waits forever by default; a hung server must not hang a run."""


def _bound_http_timeout(client: ClientAPI) -> None:
    """Give the client's HTTP session a finite timeout (best effort: a private attribute)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(HTTP_TIMEOUT_S, connect=5.0)


def make_client(
    memory_dir: Path | None = None, memory_url: str | None = None, *, create: bool = True
) -> tuple[ClientAPI, str]:
    """A chromadb client (embedded folder or server) and its location for messages."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if memory_dir is not None and memory_url is not None:
        raise ConfigError("give a memory folder or a memory server URL, not both")
    if memory_url:
        host, port, ssl = parse_memory_url(memory_url)
        client = None
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
            _bound_http_timeout(client)
            client.heartbeat()
        except Exception as exc:
            if client is not None:
                client.close()
            if _is_connection_error(exc):
                raise _unreachable(memory_url) from exc
            raise MemoryStoreError(f"memory server at {memory_url} failed: {exc}") from exc
        return client, memory_url
    if memory_dir is None:
        raise ConfigError("no memory folder or memory server URL given")
    path = Path(memory_dir).expanduser()
    _check_memory_dir(path, create=create)
    try:
        client = chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:
        raise MemoryStoreError(
            f"{path} holds a memory store that cannot be opened ({exc}); nothing was changed"
        ) from exc
    return client, str(path)


def query_collection(collection: Collection, **query: Any) -> Any:
    """``collection.query``, tried again while the server has not written the collection's
    first index yet (see :data:`QUERY_TRIES`)."""
    from chromadb.errors import ChromaError

    for attempt in range(1, QUERY_TRIES + 1):
        try:
            return collection.query(**query)
        except ChromaError as exc:
            if attempt == QUERY_TRIES or "nothing found on disk" not in str(exc).lower():
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- the store


class VectorMemory:
    """Steps, lessons and run summaries, searchable by meaning; a ``LongTermMemory``.

    ``embedder=None`` opens a store for bookkeeping only (stats, forget, wipe): whatever
    embedder built it is accepted, and anything that needs a vector raises.
    """

    def __init__(
        self,
        client: ClientAPI,
        *,
        embedder: Embedder | None,
        environment: str = "",
        location: str = "",
        remote: bool = False,
    ) -> None:
        self._client = client
        self.embedder = embedder
        self.environment = environment
        self.location = location
        self._remote = remote
        self._collections: dict[str, Collection] = {}
        self._last_subtask: dict[str, tuple[int, str]] = {}
        self._query_vectors: dict[str, np.ndarray] = {}
        self._max_chunk: int | None = None

    # ---------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        memory_dir: Path | None = None,
        memory_url: str | None = None,
        *,
        embedder: Embedder | None,
        environment: str = "",
        create: bool = True,
    ) -> VectorMemory:
        """Open the store in a folder or on a server; see ``make_client``."""
        client, location = make_client(memory_dir, memory_url, create=create)
        memory = cls(
            client,
            embedder=embedder,
            environment=environment,
            location=location,
            remote=memory_url is not None,
        )
        if embedder is not None:
            try:
                with memory._guard("opening the collections"):
                    memory._collection(MEMORIES)
            except BaseException:
                memory.close()
                raise
        return memory

    def close(self) -> None:
        """Release the client (sqlite handles, HTTP connections); safe to call twice."""
        self._collections.clear()
        close = getattr(self._client, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> VectorMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn chromadb and transport failures into the framework's one-line errors."""
        from chromadb.errors import ChromaError

        try:
            yield
        except CradleError:
            raise
        except Exception as exc:
            if self._remote and _is_connection_error(exc):
                raise _unreachable(self.location) from exc
            if isinstance(exc, ChromaError):
                raise MemoryStoreError(
                    f"memory store at {self.location} failed while {doing}: {exc}"
                ) from exc
            raise

    def _require_embedder(self) -> Embedder:
        if self.embedder is None:
            raise UsageError("this memory was opened without an embedder: it cannot search")
        return self.embedder

    def _collection(self, name: str, *, create: bool = True) -> Collection | None:
        """The collection, created with this embedder's identity, or checked against it."""
        if name in self._collections:
            return self._collections[name]
        if self.embedder is None or not create:
            from chromadb.errors import NotFoundError

            try:
                collection = self._client.get_collection(name, embedding_function=None)
            except (NotFoundError, ValueError):
                return None
        else:
            collection = self._client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={
                    "cradle_format": STORE_FORMAT,
                    "embedder": self.embedder.name,
                    "dimension": int(self.embedder.dimension),
                },
            )
        self._check_identity(name, collection.metadata or {})
        self._collections[name] = collection
        return collection

    def _check_identity(self, name: str, metadata: dict[str, Any]) -> None:
        stored = metadata.get("embedder")
        if stored is None:
            raise MemoryStoreError(
                f"collection {name} at {self.location} was not made by cradle (no embedder "
                "recorded); use another memory folder or server"
            )
        if self.embedder is None:
            return
        dimension = metadata.get("dimension")
        if stored != self.embedder.name or dimension != self.embedder.dimension:
            raise MemoryStoreError(
                f"the memory at {self.location} was built with the {stored} embedder "
                f"({dimension}-d) but this uses {self.embedder.name} "
                f"({self.embedder.dimension}-d); vectors of two models cannot be compared: "
                "use the same embedder, another memory folder, or "
                "`cradle memory forget --all --yes` to start over"
            )

    def _chunk_size(self) -> int:
        if self._max_chunk is None:
            try:
                limit = int(self._client.get_max_batch_size())
            except Exception:
                limit = MAX_CHUNK
            self._max_chunk = max(1, min(MAX_CHUNK, limit - 1))
        return self._max_chunk

    def _vectors(self, texts: list[str]) -> np.ndarray:
        embedder = self._require_embedder()
        vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != embedder.dimension:
            raise MemoryStoreError(
                f"embedder {embedder.name} returned vectors of shape {vectors.shape}, "
                f"expected (n, {embedder.dimension})"
            )
        return vectors

    # ---------------------------------------------------------------- writing

    def add(
        self,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
        ids: Sequence[str],
        *,
        embeddings: np.ndarray | Sequence[Sequence[float]] | None = None,
        collection: str = MEMORIES,
    ) -> int:
        """Upsert many memories in chunks below chromadb's batch limit; returns the count.

        Texts are embedded chunk by chunk unless ``embeddings`` are given (the benchmark
        passes precomputed vectors). Same ids replace earlier entries.
        """
        if not (len(texts) == len(metadatas) == len(ids)):
            raise ValueError("texts, metadatas and ids must have the same length")
        if embeddings is not None and len(embeddings) != len(texts):
            raise ValueError("embeddings and texts must have the same length")
        if not texts:
            return 0
        with self._guard("adding memories"):
            target = self._collection(collection)
            assert target is not None
            size = self._chunk_size()
            for start in range(0, len(texts), size):
                end = start + size
                chunk_texts = list(texts[start:end])
                vectors = (
                    self._vectors(chunk_texts)
                    if embeddings is None
                    else np.asarray(embeddings[start:end], dtype=np.float32)
                )
                target.upsert(
                    ids=list(ids[start:end]),
                    documents=chunk_texts,
                    metadatas=[_clean_metadata(m) for m in metadatas[start:end]],
                    embeddings=vectors,
                )
        return len(texts)

    def _base_metadata(self, kind: str, task: str, run_id: str, step: int) -> dict[str, Any]:
        return {
            "kind": kind,
            "environment": self.environment,
            "task": _clip(task, 200),
            "run_id": run_id,
            "step": step,
            "time": utc_now().isoformat(),
        }

    def remember_step(self, task: str, record: StepRecord) -> None:
        """Store a finished step, and a lesson when self-reflection names a failure."""
        self.remember_steps([(task, record)])

    def remember_steps(self, steps: Sequence[tuple[str, StepRecord]]) -> None:
        """Store finished steps (task, record) in one upsert; see ``_step_entries``.

        One upsert of several steps costs about as much as one of a single step, and
        chromadb folds each write into its index on the next query: the loop writes steps in
        batches (the recent-steps window holds them meanwhile).
        """
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        for task, record in steps:
            entry = self._step_entries(task, record)
            texts += entry[0]
            metas += entry[1]
            ids += entry[2]
            vectors += entry[3]
        if texts:
            self.add(texts, metas, ids, embeddings=np.stack(vectors))

    def _step_entries(
        self, task: str, record: StepRecord
    ) -> tuple[list[str], list[dict[str, Any]], list[str], list[np.ndarray]]:
        """The memories of one step: the step itself, and a lesson when it names a failure.

        A step is indexed by its situation, "task subtask": the very key the loop recalls
        with, so later runs in a similar situation find what was done in it, and the next
        step's recall reuses this embedding instead of computing another (one MiniLM call
        per step instead of two). Self-reflection judges the previous step's actions, so the
        lesson names the subtask of that step when this process saw it (else the current one).
        """
        subtask = record.task_inference.subtask if record.task_inference else ""
        success = step_success(record)
        meta = self._base_metadata("step", task, record.run_id, record.step)
        meta.update(success=success, subtask=_clip(subtask, 200), time=record.ended_at.isoformat())
        texts = [step_text(task, record)]
        metas = [meta]
        ids = [memory_id("step", record.run_id, record.step)]
        vectors = [self._query_vector(f"{task} {subtask}".strip())]
        reflection = record.self_reflection
        if reflection and not reflection.last_actions_succeeded and reflection.failure_reason:
            previous = self._last_subtask.get(record.run_id)
            when = previous[1] if previous and previous[0] == record.step - 1 else subtask
            when = when or f"working on {task}"
            lesson_meta = self._base_metadata("lesson", task, record.run_id, record.step)
            lesson_meta.update(success=False, subtask=_clip(when, 200))
            lesson = f"When {_clip(when, 200)}: {_clip(reflection.failure_reason)}"
            texts.append(lesson)
            metas.append(lesson_meta)
            ids.append(memory_id("lesson", record.run_id, record.step))
            vectors.append(self._vectors([lesson])[0])
        self._last_subtask[record.run_id] = (record.step, subtask)
        return texts, metas, ids, vectors

    def remember_run(self, task: str, run_id: str, summary: str, success: bool) -> None:
        """Store how a whole run went, one entry per run id."""
        meta = self._base_metadata("run", task, run_id, -1)
        meta["success"] = bool(success)
        text = f"Task: {_clip(task)}\nRun {'succeeded' if success else 'failed'}: {summary}"
        self.add([_clip(text, 4 * _FIELD_CHARS)], [meta], [memory_id("run", run_id)])

    # ---------------------------------------------------------------- reading

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        environment: str | None = None,
        kinds: Sequence[str] | None = None,
        min_score: float | None = None,
    ) -> list[MemoryItem]:
        """The ``k`` memories closest in meaning to ``query``, best first.

        ``score`` is cosine similarity (1 is identical). Filters narrow by environment and
        kind; each filter costs a metadata scan in chromadb, so none is applied by default.
        """
        if k <= 0 or not query.strip():
            return []
        return self.search_vector(
            self._query_vector(query), k, environment=environment, kinds=kinds, min_score=min_score
        )

    def _query_vector(self, query: str) -> np.ndarray:
        """The embedding of ``query``, cached: the loop asks with "task subtask" every step,
        the subtask rarely changes, and steps are stored under the same key."""
        self._require_embedder()
        vector = self._query_vectors.get(query)
        if vector is None:
            with self._guard("embedding the query"):
                vector = self._vectors([query])[0]
            if len(self._query_vectors) >= 64:
                self._query_vectors.pop(next(iter(self._query_vectors)))
            self._query_vectors[query] = vector
        return vector

    def search_vector(
        self,
        vector: np.ndarray | Sequence[float],
        k: int = 5,
        *,
        environment: str | None = None,
        kinds: Sequence[str] | None = None,
        min_score: float | None = None,
    ) -> list[MemoryItem]:
        """``search`` with a ready query vector (the benchmark times the store alone)."""
        if k <= 0:
            return []
        with self._guard("searching"):
            collection = self._collection(MEMORIES, create=self.embedder is not None)
            if collection is None:
                return []
            clauses: list[dict[str, Any]] = []
            if environment is not None:
                clauses.append({"environment": environment})
            if kinds:
                clauses.append({"kind": {"$in": list(kinds)}})
            where = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)
            result = query_collection(
                collection,
                query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        items = []
        ids = result["ids"][0]
        documents = (result.get("documents") or [[]])[0]
        metadatas = (result.get("metadatas") or [[]])[0]
        distances = (result.get("distances") or [[]])[0]
        for item_id, text, meta, distance in zip(ids, documents, metadatas, distances, strict=True):
            score = 1.0 - float(distance)
            if min_score is not None and score < min_score:
                continue
            meta = dict(meta or {})
            meta["id"] = item_id
            items.append(
                MemoryItem(
                    text=text or "",
                    kind=str(meta.get("kind", "step")),
                    score=round(score, 4),
                    metadata=meta,
                )
            )
        return items

    def recall(
        self,
        query: str,
        *,
        k: int,
        environment: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[MemoryItem]:
        """``LongTermMemory.recall``: the best ``k`` memories for this situation."""
        return self.search(query, k, environment=environment, kinds=kinds)

    def _all_metadata(
        self, collection: Collection, where: dict[str, Any] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        size = self._chunk_size()
        offset = 0
        while True:
            page = collection.get(where=where, include=["metadatas"], limit=size, offset=offset)
            for item_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                yield item_id, dict(meta or {})
            if len(page["ids"]) < size:
                return
            offset += size

    def stats(self) -> dict[str, Any]:
        """Counts by kind, distinct runs and skills, the embedder and where the store is."""
        with self._guard("counting"):
            memories = self._collection(MEMORIES, create=False)
            skills = self._collection(SKILLS, create=False)
            kinds: Counter[str] = Counter()
            runs: set[str] = set()
            environments: Counter[str] = Counter()
            if memories is not None:
                for _, meta in self._all_metadata(memories):
                    kinds[str(meta.get("kind", "?"))] += 1
                    if meta.get("run_id"):
                        runs.add(str(meta["run_id"]))
                    environments[str(meta.get("environment", ""))] += 1
            stored = memories or skills
            stored_meta = (stored.metadata or {}) if stored is not None else {}
            return {
                "location": self.location,
                "embedder": stored_meta.get("embedder")
                or (self.embedder.name if self.embedder else None),
                "dimension": stored_meta.get("dimension")
                or (self.embedder.dimension if self.embedder else None),
                "memories": sum(kinds.values()),
                "by_kind": dict(sorted(kinds.items())),
                "runs": len(runs),
                "environments": dict(sorted(environments.items())),
                "skills": skills.count() if skills is not None else 0,
            }

    # ---------------------------------------------------------------- forgetting

    def forget_run(self, run_id: str) -> int:
        """Delete every memory of one run; returns how many were deleted."""
        with self._guard("forgetting a run"):
            collection = self._collection(MEMORIES, create=False)
            if collection is None:
                return 0
            ids = [item_id for item_id, _ in self._all_metadata(collection, {"run_id": run_id})]
            size = self._chunk_size()
            for start in range(0, len(ids), size):
                collection.delete(ids=ids[start : start + size])
        self._last_subtask.pop(run_id, None)
        return len(ids)

    def wipe(self) -> int:
        """Delete both collections (memories and skills); returns how many entries went."""
        from chromadb.errors import NotFoundError

        removed = 0
        with self._guard("wiping"):
            for name in (MEMORIES, SKILLS):
                collection = self._collection(name, create=False)
                if collection is None:
                    continue
                removed += collection.count()
                try:
                    self._client.delete_collection(name)
                except (NotFoundError, ValueError):
                    pass
                self._collections.pop(name, None)
        self._last_subtask.clear()
        return removed

    # ---------------------------------------------------------------- skills

    @property
    def skills(self) -> SkillIndex:
        """The skill index kept in the same store."""
        from cradle.memory.skill_index import SkillIndex

        return SkillIndex(self)


def _clean_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """chromadb accepts str, int, float and bool values only; None and others are dropped."""
    clean: dict[str, Any] = {}
    for key, value in meta.items():
        if isinstance(value, bool | int | float | str):
            clean[key] = value
        elif value is not None:
            clean[key] = str(value)
    return clean


# --------------------------------------------------------------------------- entry points


def default_memory_dir() -> Path:
    """``$CRADLE_MEMORY_DIR``, else ``memory`` in the per-user data folder."""
    import os

    from cradle.paths import data_dir

    configured = os.environ.get("CRADLE_MEMORY_DIR")
    if configured:
        return Path(configured).expanduser()
    return data_dir() / "memory"


def open_memory(
    memory_dir: Path | None = None,
    memory_url: str | None = None,
    *,
    environment: str = "",
    embedder: Embedder | None = None,
    create: bool = True,
) -> VectorMemory:
    """The long-term memory a run (or the CLI) uses.

    A server URL wins over a folder; with neither, the default folder. Without an embedder,
    the default one (offline MiniLM; hashing with a warning only when MiniLM is missing).
    """
    if embedder is None:
        from cradle.memory.embedders import default_embedder

        embedder = default_embedder("auto")
    if memory_url:
        return VectorMemory.open(None, memory_url, embedder=embedder, environment=environment)
    return VectorMemory.open(
        memory_dir or default_memory_dir(),
        None,
        embedder=embedder,
        environment=environment,
        create=create,
    )
