"""Where the memory store is: server URLs and folders, checked before chromadb touches them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cradle.errors import ConfigError, MemoryStoreError
from cradle.memory.client import check_memory_folder, make_client, parse_memory_url


def test_server_urls_get_default_ports_and_bad_ones_one_line_errors() -> None:
    assert parse_memory_url("127.0.0.1:9000") == ("127.0.0.1", 9000, False)
    assert parse_memory_url("http://chroma") == ("chroma", 8000, False)
    assert parse_memory_url("https://chroma") == ("chroma", 443, True)
    with pytest.raises(ConfigError, match="use http://HOST:PORT"):
        parse_memory_url("ftp://chroma")
    with pytest.raises(ConfigError, match="bad port"):
        parse_memory_url("http://chroma:port")


def test_a_folder_and_a_server_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        make_client(tmp_path, "http://127.0.0.1:1")
    with pytest.raises(ConfigError, match="no memory folder"):
        make_client(None, None)


def test_checking_a_folder_creates_a_missing_one_and_refuses_others(tmp_path: Path) -> None:
    check_memory_folder(tmp_path / "new")
    assert (tmp_path / "new").is_dir()
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(MemoryStoreError, match="is a file"):
        check_memory_folder(tmp_path / "notes.txt")
    with pytest.raises(MemoryStoreError, match="not a memory store"):
        check_memory_folder(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
