"""The collections of a memory store, shared by :class:`VectorMemory` and :class:`SkillIndex`.

Vectors are always computed here and handed to chromadb (``embeddings=``); collections are
created without an embedding function, so no call can ever fall back to chromadb's default
embedder, which downloads a model at first use.

Each collection records the embedder that filled it (name and dimension). Opening it with
another embedder is an error: vectors from two models are not comparable, and mixing them
would quietly return nonsense.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from cradle.errors import CradleError, MemoryStoreError, UsageError
from cradle.memory.client import is_connection_error, unreachable

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from cradle.memory.embedders import Embedder

MEMORIES = "cradle_memories"
"""Collection of steps, lessons and run summaries."""
SKILLS = "cradle_skills"
"""Collection of skill descriptions, one entry per skill name and description."""
STORE_FORMAT = 1
"""Bumped when the layout of what cradle writes changes."""
MAX_CHUNK = 4000
"""Upper bound for one add/delete call; chromadb's own limit (~5,461) is also respected."""


def close_client(client: ClientAPI) -> None:
    """Release a client's sqlite handles or HTTP connections (older chromadb has no close)."""
    close = getattr(client, "close", None)
    if close is not None:
        close()


@contextmanager
def guarded(doing: str, location: str, *, remote: bool) -> Iterator[None]:
    """Turn chromadb and transport failures into the framework's one-line errors."""
    from chromadb.errors import ChromaError

    try:
        yield
    except CradleError:
        raise
    except Exception as exc:
        if remote and is_connection_error(exc):
            raise unreachable(location) from exc
        if isinstance(exc, ChromaError):
            raise MemoryStoreError(
                f"memory store at {location} failed while {doing}: {exc}"
            ) from exc
        raise


def recorded_embedders(client: ClientAPI, location: str, *, remote: bool) -> dict[str, str]:
    """The embedder each of cradle's collections in the store recorded (collection name to
    embedder name; none for a new store), read before an embedder is chosen for the store."""
    from chromadb.errors import NotFoundError

    found: dict[str, str] = {}
    with guarded("reading which embedder built it", location, remote=remote):
        for name in (MEMORIES, SKILLS):
            try:
                collection = client.get_collection(name, embedding_function=None)
            except (NotFoundError, ValueError):
                continue
            stored = (collection.metadata or {}).get("embedder")
            if stored is not None:
                found[name] = str(stored)
    if len(set(found.values())) > 1:
        built = ", ".join(f"{name} by {stored}" for name, stored in found.items())
        raise MemoryStoreError(
            f"the memory at {location} was built by two embedders ({built}); vectors of two "
            "models cannot be compared: use another memory folder, or "
            "`cradle memory forget --all --yes` to start over"
        )
    return found


class ChromaCollections:
    """One client's collections, opened with (or checked against) one embedder's identity.

    ``embedder=None`` opens them for bookkeeping only (stats, forget, wipe): whatever
    embedder built them is accepted, and anything that needs a vector raises.
    """

    def __init__(
        self,
        client: ClientAPI,
        *,
        embedder: Embedder | None,
        location: str = "",
        remote: bool = False,
    ) -> None:
        self.client = client
        self.embedder = embedder
        self.location = location
        self.remote = remote
        self._collections: dict[str, Collection] = {}
        self._max_chunk: int | None = None

    def close(self) -> None:
        """Release the client (sqlite handles, HTTP connections); safe to call twice."""
        self._collections.clear()
        close_client(self.client)

    def guard(self, doing: str) -> AbstractContextManager[None]:
        """Turn chromadb and transport failures into the framework's one-line errors."""
        return guarded(doing, self.location, remote=self.remote)

    def require_embedder(self) -> Embedder:
        """The embedder, or a clear error for a store opened for bookkeeping only."""
        if self.embedder is None:
            raise UsageError("this memory was opened without an embedder: it cannot search")
        return self.embedder

    def collection(self, name: str, *, create: bool = True) -> Collection | None:
        """The collection, created with this embedder's identity, or checked against it;
        None when it does not exist and may not be created."""
        if name in self._collections:
            return self._collections[name]
        if self.embedder is None or not create:
            from chromadb.errors import NotFoundError

            try:
                collection = self.client.get_collection(name, embedding_function=None)
            except (NotFoundError, ValueError):
                return None
        else:
            collection = self.client.get_or_create_collection(
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
            from cradle.memory.embedders import identity_hint

            raise MemoryStoreError(
                f"the memory at {self.location} was built with the {stored} embedder "
                f"({dimension}-d) but this uses {self.embedder.name} "
                f"({self.embedder.dimension}-d); vectors of two models cannot be compared: "
                f"{identity_hint(str(stored))}, another memory folder, or "
                "`cradle memory forget --all --yes` to start over"
            )

    def drop(self, name: str) -> int:
        """Delete a whole collection; returns how many entries it held."""
        from chromadb.errors import NotFoundError

        collection = self.collection(name, create=False)
        if collection is None:
            return 0
        count = collection.count()
        try:
            self.client.delete_collection(name)
        except (NotFoundError, ValueError):
            pass
        self._collections.pop(name, None)
        return count

    def chunk_size(self) -> int:
        """Most entries one call may carry: the server's batch limit, at most ``MAX_CHUNK``."""
        if self._max_chunk is None:
            try:
                limit = int(self.client.get_max_batch_size())
            except Exception:
                limit = MAX_CHUNK
            self._max_chunk = max(1, min(MAX_CHUNK, limit - 1))
        return self._max_chunk

    def vectors(self, texts: list[str]) -> np.ndarray:
        """The embeddings of ``texts``, checked to have the embedder's dimension."""
        embedder = self.require_embedder()
        vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != embedder.dimension:
            raise MemoryStoreError(
                f"embedder {embedder.name} returned vectors of shape {vectors.shape}, "
                f"expected (n, {embedder.dimension})"
            )
        return vectors

    def upsert(
        self,
        name: str,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
        ids: Sequence[str],
        embeddings: np.ndarray | Sequence[Sequence[float]] | None = None,
    ) -> None:
        """Add or replace entries in chunks below the batch limit, embedding each chunk's
        texts unless ``embeddings`` are given. Call it inside :meth:`guard`."""
        target = self.collection(name)
        assert target is not None
        size = self.chunk_size()
        for start in range(0, len(texts), size):
            end = start + size
            chunk_texts = list(texts[start:end])
            vectors = (
                self.vectors(chunk_texts)
                if embeddings is None
                else np.asarray(embeddings[start:end], dtype=np.float32)
            )
            target.upsert(
                ids=list(ids[start:end]),
                documents=chunk_texts,
                metadatas=[_clean_metadata(m) for m in metadatas[start:end]],
                embeddings=vectors,
            )

    def present(self, name: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` the collection holds. Call it inside :meth:`guard`."""
        collection = self.collection(name)
        assert collection is not None
        found: set[str] = set()
        size = self.chunk_size()
        for start in range(0, len(ids), size):
            found.update(collection.get(ids=list(ids[start : start + size]), include=[])["ids"])
        return found

    def all_metadata(
        self, collection: Collection, where: dict[str, Any] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every entry's id and metadata (matching ``where``), read a chunk at a time."""
        size = self.chunk_size()
        offset = 0
        while True:
            page = collection.get(where=where, include=["metadatas"], limit=size, offset=offset)
            for item_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                yield item_id, dict(meta or {})
            if len(page["ids"]) < size:
                return
            offset += size


def _clean_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """chromadb accepts str, int, float and bool values only; None and others are dropped."""
    clean: dict[str, Any] = {}
    for key, value in meta.items():
        if isinstance(value, bool | int | float | str):
            clean[key] = value
        elif value is not None:
            clean[key] = str(value)
    return clean
