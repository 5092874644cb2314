"""Model calls and input tokens per step, counted from what actually goes over the wire.

    python -m benchmarks.token_bench

Each configuration runs a real ``Session`` (real ``OpenAIProvider``, real ``openai`` client)
on mock-notepad at 1920x1080 against tests/fakes/openai_server.py on loopback. The server
keeps every request body; each is counted with benchmarks/tokens.py: the system and user
text, the JSON schema sent in ``response_format`` (OpenAI counts it as input), and each image
by OpenAI's tile formula for the size actually sent. Replies alternate between typing a word
and waiting, as in the step benchmark. Long-term memory is on (a fresh embedded store).

Configurations: ``fused`` and ``modular`` at the defaults, and the Cradle-style ``baseline``:
modular, full-resolution PNG screenshots (``--max-image-side 1920``, image_format png).
``fused_waiting`` is ``fused`` where the even steps plan ``wait(seconds=0.1)`` instead of
nothing (an app loading): the loop's idle steps repeat such a wait without a model call while
the screen stays identical (``AgentSettings.idle_skips``).
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.fakes import ScriptedAnswers
from benchmarks.tokens import request_tokens, text_counter
from cradle.agent import AgentSettings
from cradle.session import MemorySettings, ModelSettings, SafetySettings, Session, SessionSettings

CONFIGS: dict[str, dict[str, Any]] = {
    "fused": {"mode": "fused"},
    "fused_waiting": {"mode": "fused", "waiting": True},
    "modular": {"mode": "modular"},
    "baseline": {"mode": "modular", "max_image_side": 1920, "image_format": "png"},
}


def run_config(name: str, steps: int, folder: Path) -> dict[str, Any]:
    """Run one configuration for ``steps`` steps; per-step calls and tokens."""
    from tests.fakes.openai_server import FakeOpenAIServer

    config = CONFIGS[name]
    agent = AgentSettings(mode=config["mode"], max_steps=steps)
    if "max_image_side" in config:
        agent = agent.model_copy(update={"max_image_side": config["max_image_side"]})
    count, method = text_counter()
    with FakeOpenAIServer(ScriptedAnswers(config.get("waiting", False))) as server:
        settings = SessionSettings(
            env="mock-notepad",
            task="Type the words into the editor and save the file",
            runs_dir=folder / "runs",
            generated_skills_dir=None,
            env_options={"size": "1920x1080"},
            agent=agent,
            model=ModelSettings(
                model="gpt-4o",
                base_url=server.base_url,
                api_key_env="NONE",
                image_format=config.get("image_format", "jpeg"),
            ),
            memory=MemorySettings(memory_dir=folder / "memory"),
            stats_path=folder / "stats.json",
            safety=SafetySettings(confirm="never"),
        )
        result = Session(settings).run()
        bodies = list(server.requests)
    counted = [request_tokens(body, count) for body in bodies]
    per_step = {
        key: sum(c[key] for c in counted) / result.steps
        for key in ("text", "schema", "images", "total")
    }
    sizes = sorted({tuple(s) for c in counted for s in c["image_sizes"]})
    return {
        "steps": result.steps,
        "calls": len(bodies),
        "calls_per_step": round(len(bodies) / result.steps, 2),
        "input_tokens_per_step": round(per_step["total"]),
        "text_tokens_per_step": round(per_step["text"]),
        "schema_tokens_per_step": round(per_step["schema"]),
        "image_tokens_per_step": round(per_step["images"]),
        "request_bytes_per_step": round(
            sum(len(json.dumps(body)) for body in bodies) / result.steps
        ),
        "images_per_step": round(sum(len(c["image_sizes"]) for c in counted) / result.steps, 2),
        "image_sizes_sent": [list(s) for s in sizes],
        "median_request_tokens": statistics.median(c["total"] for c in counted),
        "text_count_method": method,
    }


def run(quick: bool = False) -> dict[str, Any]:
    steps = 6 if quick else 12
    with tempfile.TemporaryDirectory(prefix="cradle-token-bench-") as tmp:
        return {name: run_config(name, steps, Path(tmp) / name) for name in CONFIGS}


if __name__ == "__main__":
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
