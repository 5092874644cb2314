"""`cradle memory search|stats|forget` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cradle.cli.memory_cmd import memory_app
from cradle.errors import MemoryStoreError, MemoryUnavailableError, UsageError
from cradle.memory.client import default_memory_dir
from cradle.memory.embedders import MiniLMEmbedder
from cradle.memory.store import open_memory
from cradle.processes import free_port
from tests.memory.helpers import make_record

runner = CliRunner()


def _seed(
    embedder: MiniLMEmbedder, memory_dir: Path | None = None, memory_url: str | None = None
) -> None:
    with open_memory(memory_dir, memory_url, environment="notepad", embedder=embedder) as memory:
        memory.remember_step(
            "save the list",
            make_record("run-1", 1, "press ctrl+s", [("hotkey('ctrl', 's')", "ok", "")]),
        )
        memory.remember_step(
            "save the list",
            make_record(
                "run-1", 2, "type the name", [], reflection=(False, "no dialog", "dialog was slow")
            ),
        )
        memory.remember_run("save the list", "run-1", "saved", success=True)
        memory.remember_step(
            "open calculator",
            make_record("run-2", 1, "click the icon", [("click(x=1, y=2)", "ok", "")]),
        )


@pytest.fixture
def memory_dir(tmp_path: Path, embedder: MiniLMEmbedder) -> Path:
    folder = tmp_path / "memory"
    _seed(embedder, folder)
    return folder


def test_search_prints_best_first(memory_dir: Path) -> None:
    result = runner.invoke(
        memory_app,
        ["search", "keyboard shortcut to save", "--memory-dir", str(memory_dir), "-k", "2"],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[1:] == ["step", "run", "run-1", "step", "1"]
    assert "hotkey('ctrl', 's') -> ok" in result.output
    assert "warning" not in result.output


def test_search_json_and_filters(memory_dir: Path) -> None:
    result = runner.invoke(
        memory_app,
        ["search", "saving", "--memory-dir", str(memory_dir), "--kind", "lesson", "--json"],
    )
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert [item["text"] for item in items] == ["When press ctrl+s: dialog was slow"]
    assert items[0]["metadata"]["run_id"] == "run-1" and 0 < items[0]["score"] <= 1


def test_stats(memory_dir: Path) -> None:
    result = runner.invoke(memory_app, ["stats", "--memory-dir", str(memory_dir)])
    assert result.exit_code == 0, result.output
    assert "embedder:  all-MiniLM-L6-v2-qint8 (384-d)" in result.output
    assert "memories:  5 (lesson 1, run 1, step 3)" in result.output
    assert "runs:      2" in result.output
    data = json.loads(
        runner.invoke(memory_app, ["stats", "--memory-dir", str(memory_dir), "--json"]).output
    )
    assert data["by_kind"] == {"lesson": 1, "run": 1, "step": 3}


def test_forget_run_and_all(memory_dir: Path) -> None:
    result = runner.invoke(
        memory_app, ["forget", "--run", "run-1", "--memory-dir", str(memory_dir)]
    )
    assert result.exit_code == 0 and "forgot 4 memories of run run-1" in result.output
    refused = runner.invoke(memory_app, ["forget", "--all", "--memory-dir", str(memory_dir)])
    assert isinstance(refused.exception, UsageError)
    assert "without --yes" in str(refused.exception)
    assert (
        json.loads(
            runner.invoke(memory_app, ["stats", "--memory-dir", str(memory_dir), "--json"]).output
        )["memories"]
        == 1
    )
    wiped = runner.invoke(memory_app, ["forget", "--all", "--yes", "--memory-dir", str(memory_dir)])
    assert wiped.exit_code == 0 and "(1 entries)" in wiped.output
    nothing = runner.invoke(memory_app, ["forget", "--memory-dir", str(memory_dir)])
    assert isinstance(nothing.exception, UsageError)


def test_missing_store_and_foreign_folder_are_one_line_errors(tmp_path: Path) -> None:
    result = runner.invoke(memory_app, ["stats", "--memory-dir", str(tmp_path / "none")])
    assert isinstance(result.exception, MemoryStoreError)
    assert not (tmp_path / "none").exists()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    result = runner.invoke(memory_app, ["search", "x", "--memory-dir", str(tmp_path / "docs")])
    assert isinstance(result.exception, MemoryStoreError)
    assert "\n" not in str(result.exception)


def test_default_dir_from_environment(
    monkeypatch: pytest.MonkeyPatch, memory_dir: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRADLE_MEMORY_DIR", str(memory_dir))
    assert default_memory_dir() == memory_dir
    assert "runs:      2" in runner.invoke(memory_app, ["stats"]).output
    monkeypatch.delenv("CRADLE_MEMORY_DIR")
    monkeypatch.setenv("CRADLE_DATA_DIR", str(tmp_path / "data"))
    assert default_memory_dir() == tmp_path / "data" / "memory"
    monkeypatch.delenv("CRADLE_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_memory_dir() == tmp_path / "xdg" / "cradle" / "memory"


def test_cli_through_the_server(chroma_server: str, embedder: MiniLMEmbedder) -> None:
    runner.invoke(memory_app, ["forget", "--all", "--yes", "--memory-url", chroma_server])
    _seed(embedder, memory_url=chroma_server)
    result = runner.invoke(
        memory_app,
        ["search", "open the calculator app", "--memory-url", chroma_server, "-k", "1", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["metadata"]["run_id"] == "run-2"
    stats = runner.invoke(memory_app, ["stats", "--memory-url", chroma_server])
    assert f"location:  {chroma_server}" in stats.output
    with open_memory(None, chroma_server, embedder=embedder) as memory:
        session = memory.chroma.client._server._session  # type: ignore[attr-defined]
        assert session.timeout.read == 60.0  # never chromadb's default of waiting forever
    both = runner.invoke(
        memory_app, ["stats", "--memory-url", chroma_server, "--memory-dir", "/tmp/x"]
    )
    assert isinstance(both.exception, UsageError)


def test_hashing_choice_is_printed(memory_dir: Path) -> None:
    with pytest.warns(UserWarning):
        result = runner.invoke(
            memory_app, ["search", "x", "--memory-dir", str(memory_dir), "--embedder", "hashing"]
        )
    assert "warning: memory uses the hashing embedder" in result.stderr
    assert isinstance(result.exception, MemoryStoreError)  # and the store refuses it
    assert "built with the all-MiniLM-L6-v2-qint8 embedder" in str(result.exception)


def test_unreachable_server() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(memory_app, ["search", "x", "--memory-url", url])
    assert isinstance(result.exception, MemoryUnavailableError)
    assert str(result.exception) == (
        f"cannot reach the memory server at {url}: is `chroma run` running?"
    )
    bad = runner.invoke(memory_app, ["stats", "--memory-url", "ftp://host"])
    assert isinstance(bad.exception, UsageError)
