"""The chromadb client behind long-term memory: an embedded folder or a ``chroma run`` server.

Everything that depends on *where* the store is lives here: URL parsing, the check that a
folder is a memory store before chromadb writes into it, the bounded HTTP timeout, and the
ways a missing server shows up. chromadb is imported on first use, not at import time (it
takes ~0.7 s to import).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cradle.errors import ConfigError, MemoryStoreError, MemoryUnavailableError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

QUERY_TRIES = 10
"""A Chroma server (1.5) answers a query that races the first write into a collection with
"Nothing found on disk" for a few milliseconds (several workers on one server see it): such a
query is tried again, 50 ms apart, this many times in all."""
HTTP_TIMEOUT_S = 60.0
"""chromadb's HttpClient waits forever by default; a hung server must not hang a run."""
_SQLITE_MAGIC = b"SQLite format 3\x00"


def default_memory_dir() -> Path:
    """``$CRADLE_MEMORY_DIR``, else ``memory`` in the per-user data folder."""
    import os

    from cradle.paths import data_dir

    configured = os.environ.get("CRADLE_MEMORY_DIR")
    if configured:
        return Path(configured).expanduser()
    return data_dir() / "memory"


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


def unreachable(url: str) -> MemoryUnavailableError:
    """The one-line error for a server that is not there."""
    return MemoryUnavailableError(
        f"cannot reach the memory server at {url}: is `chroma run` running?"
    )


def is_connection_error(exc: BaseException) -> bool:
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
    if memory_dir is not None and memory_url is not None:
        raise ConfigError("give a memory folder or a memory server URL, not both")
    if memory_url:
        return _server_client(memory_url), memory_url
    if memory_dir is None:
        raise ConfigError("no memory folder or memory server URL given")
    path = Path(memory_dir).expanduser()
    _check_memory_dir(path, create=create)
    import chromadb

    try:
        client = chromadb.PersistentClient(path=str(path), settings=_settings())
    except Exception as exc:
        raise MemoryStoreError(
            f"{path} holds a memory store that cannot be opened ({exc}); nothing was changed"
        ) from exc
    return client, str(path)


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def _server_client(memory_url: str) -> ClientAPI:
    """A client of the server at ``memory_url``, checked with a heartbeat."""
    import chromadb

    host, port, ssl = parse_memory_url(memory_url)
    client = None
    try:
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_settings())
        _bound_http_timeout(client)
        client.heartbeat()
    except Exception as exc:
        if client is not None:
            client.close()
        if is_connection_error(exc):
            raise unreachable(memory_url) from exc
        raise MemoryStoreError(f"memory server at {memory_url} failed: {exc}") from exc
    return client


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
