"""One store used by several processes at once (the workers of a fleet on one server): each
ranks skills over its own set, none deletes the entries another one needs, and a query that
races the first write into a collection is tried again."""

from __future__ import annotations

import pytest

from cradle.memory.client import QUERY_TRIES, query_collection
from cradle.memory.embedders import MiniLMEmbedder
from cradle.memory.store import open_memory

SAVE = "Save As: store the current file with a different file name"
MUTE = "Mute the system sound"
TAB = "Open a new browser tab"


def test_two_writers_each_rank_over_their_own_set(
    backend: dict[str, object], embedder: MiniLMEmbedder
) -> None:
    where = (backend["memory_dir"], backend["memory_url"])
    with (
        open_memory(*where, embedder=embedder) as one,
        open_memory(*where, embedder=embedder) as two,
    ):  # type: ignore[arg-type]
        first, second = one.skills, two.skills
        assert first.sync({"save_as": SAVE, "volume_mute": MUTE}).added == 2
        assert second.sync({"save_as": SAVE, "new_tab": TAB}).added == 2
        assert sorted(first.rank("anything", 10)) == ["save_as", "volume_mute"]
        assert sorted(second.rank("anything", 10)) == ["new_tab", "save_as"]
        assert first.rank("turn off the speakers", 1) == ["volume_mute"]

        # one name, other text in the other set: each ranks by its own description
        result = second.sync({"save_as": SAVE, "new_tab": TAB, "volume_mute": "Zoom in"})
        assert (result.added, result.updated, result.unchanged) == (1, 0, 2)
        assert first.rank("turn off the speakers", 1) == ["volume_mute"]
        assert second.rank("make it bigger", 1) == ["volume_mute"]

        assert first.sync({}).removed == 2
        assert first.rank("anything", 10) == []
        assert sorted(second.rank("anything", 10)) == ["new_tab", "save_as", "volume_mute"]


class _Racing:
    """A collection whose first queries fail as a Chroma server's do while the first write
    into the collection is not on disk yet."""

    def __init__(
        self,
        failures: int,
        message: str = "Error creating hnsw segment reader: Nothing found on disk",
    ) -> None:
        self.failures, self.message, self.calls = failures, message, 0

    def query(self, **query: object) -> dict[str, object]:
        from chromadb.errors import InternalError

        self.calls += 1
        if self.calls <= self.failures:
            raise InternalError(self.message)
        return {"ids": [["a"]], "query": query}


def test_a_query_racing_the_first_write_is_tried_again() -> None:
    from chromadb.errors import InternalError

    racing = _Racing(failures=2)
    assert query_collection(racing, n_results=1)["ids"] == [["a"]]  # type: ignore[arg-type]
    assert racing.calls == 3
    with pytest.raises(InternalError):  # other errors are not retried
        query_collection(_Racing(failures=1, message="disk I/O error"))  # type: ignore[arg-type]
    never = _Racing(failures=QUERY_TRIES)
    with pytest.raises(InternalError):
        query_collection(never)  # type: ignore[arg-type]
    assert never.calls == QUERY_TRIES
