"""`cradle models check` against a fake of each API: a capable model, and one whose server
refuses images and tools; the table says which, the exit code whether the run can go."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.llama_cpp_server import LlamaCppLike
from tests.fakes.model_checks import AnthropicChecks, ChatChecks, ResponsesChecks, unavailable
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.responses_server import FakeResponsesServer
from tests.reliability.helpers import cradle_env

KEY = "sk-models-check-0123456789"


def _check(
    tmp_path: Path, provider: str, base_url: str, *args: str, key: bool = True
) -> subprocess.CompletedProcess:
    env = cradle_env({"ANTHROPIC_API_KEY": KEY, "OPENAI_API_KEY": KEY} if key else None)
    if not key:
        env.pop("ANTHROPIC_API_KEY", None)
    env.pop("ANTHROPIC_BASE_URL", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "models",
            "check",
            "--provider",
            provider,
            "--base-url",
            base_url,
            "--model",
            "fake",
            "--timeout",
            "10",
            *args,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _rows(out: str) -> dict[str, list[str]]:
    """capability -> [needed, result, detail] from the printed table."""
    rows = {}
    for line in out.splitlines():
        for name in ("text reply", "image input", "structured output", "computer tool"):
            if line.startswith(name):
                rest = line[len(name) :].split(None, 1)
                needed, tail = rest[0], rest[1]
                result = "not supported" if tail.startswith("not supported") else tail.split()[0]
                _ms, detail = (tail[len(result) :].split(None, 1) + [""])[:2]
                rows[name] = [needed, result, detail]
    return rows


@pytest.mark.parametrize(
    ("provider", "server", "mode", "structured"),
    [
        ("anthropic", FakeAnthropicServer, "fused", "tool_use"),
        ("openai-responses", FakeResponsesServer, "computer-use", "json_schema"),
    ],
)
def test_a_capable_model_passes_every_check(
    tmp_path: Path, provider: str, server: type, mode: str, structured: str
) -> None:
    handler = AnthropicChecks() if provider == "anthropic" else ResponsesChecks()
    with server(handler) as fake:
        done = _check(tmp_path, provider, fake.base_url, "--mode", mode)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(done.stdout)
    assert {name: row[1] for name, row in rows.items()} == {
        "text reply": "ok",
        "image input": "ok",
        "structured output": "ok",
        "computer tool": "ok",
    }
    assert "named the colour" in rows["image input"][2]
    assert rows["structured output"][2] == structured
    assert "called the computer tool (screenshot)" in rows["computer tool"][2]
    assert rows["computer tool"][0] == ("yes" if mode == "computer-use" else "no")
    assert f"ready for --mode {mode}" in done.stdout
    tools = [t for body in fake.requests for t in body.get("tools") or []]
    computer = [t for t in tools if t.get("type") in ("computer_20250124", "computer_use_preview")]
    assert len(computer) == 1
    if provider == "anthropic":
        assert computer[0]["display_width_px"] == 1280 and computer[0]["display_height_px"] == 720
        assert any(h.get("anthropic-beta") == "computer-use-2025-01-24" for h in fake.headers)
    else:
        assert computer[0]["display_width"] == 1280 and computer[0]["environment"] == "linux"


@pytest.mark.parametrize(
    ("provider", "server", "handler"),
    [
        ("anthropic", FakeAnthropicServer, AnthropicChecks(images=False, tools=False)),
        ("openai-responses", FakeResponsesServer, ResponsesChecks(images=False, tools=False)),
    ],
)
def test_a_model_without_images_or_tools_fails_with_the_servers_reasons(
    tmp_path: Path, provider: str, server: type, handler: object
) -> None:
    with server(handler) as fake:
        done = _check(tmp_path, provider, fake.base_url)
    assert done.returncode == 1, done.stdout + done.stderr
    rows = _rows(done.stdout)
    assert rows["text reply"][1] == "ok"
    assert rows["image input"][:2] == ["yes", "not supported"]
    assert "support" in rows["image input"][2]  # the server's own reason
    assert rows["computer tool"][:2] == ["no", "not supported"]
    assert "not supported" in rows["computer tool"][2]
    # Anthropic's structured output is tool use, so it goes with the tools.
    assert rows["structured output"][1] == ("not supported" if provider == "anthropic" else "ok")
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("not ready for --mode fused") and "--no-vision" in last
    assert "Traceback" not in done.stdout + done.stderr


def test_a_text_only_llama_server_reports_the_mode_that_works(tmp_path: Path) -> None:
    with FakeOpenAIServer(LlamaCppLike(ChatChecks())) as fake:
        done = _check(tmp_path, "openai", fake.base_url, "--no-vision")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(done.stdout)
    assert rows["image input"][:2] == ["no", "not supported"]
    assert rows["structured output"][2].startswith("json_object_schema (refused: json_schema)")
    assert rows["computer tool"][1] == "n/a"
    with FakeOpenAIServer(LlamaCppLike(ChatChecks())) as fake:
        assert _check(tmp_path, "openai", fake.base_url).returncode == 1  # images needed


def test_an_unusable_endpoint_fails_fast_and_asks_nothing_more(tmp_path: Path) -> None:
    started = time.monotonic()
    with FakeAnthropicServer(unavailable) as fake:
        done = _check(tmp_path, "anthropic", fake.base_url)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    rows = _rows(done.stdout)
    assert rows["text reply"][1] == "failed" and "overloaded (529)" in rows["text reply"][2]
    assert [rows[n][1] for n in ("image input", "structured output", "computer tool")] == [
        "skipped"
    ] * 3
    assert len(fake.requests) == 1 and time.monotonic() - started < 60
    assert "--no-vision" not in done.stdout  # the image was not refused, only not asked


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    done = _check(tmp_path, "anthropic", "https://api.anthropic.com", key=False)
    assert done.returncode == 2 and "ANTHROPIC_API_KEY" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = _check(tmp_path, "anthropic", "http://127.0.0.1:9", "--mode", "sideways")
    assert done.returncode == 2 and "--mode" in done.stderr
    done = _check(tmp_path, "gemini", "http://127.0.0.1:9")
    assert done.returncode == 2 and "--provider" in done.stderr
