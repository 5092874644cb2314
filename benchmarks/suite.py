"""Every benchmark in one run: the figures ``cradle bench`` prints, each with its method.

Each figure is ``{"value", "unit", "goal", "met", "method"}``; ``baseline`` holds the same
figures for a Cradle-style configuration (modular, 4-5 calls a step, full-resolution PNG
screenshots) measured in the same run, and ``ratios`` divide ours by the baseline's.
``--quick`` shrinks the sample sizes (fewer steps, 10k memories instead of 100k) and says so.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    ram = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.machine(),
        "ram_gib": ram,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def figure(
    value: Any, unit: str, method: str, goal: str = "", met: bool | None = None
) -> dict[str, Any]:
    return {"value": value, "unit": unit, "goal": goal, "met": met, "method": method}


def _steps(report: dict[str, Any]) -> dict[str, Any]:
    from benchmarks import step_bench

    figures: dict[str, Any] = {}
    method = (step_bench.__doc__ or "").split("\n\n", 2)[-1].replace("\n", " ").strip()
    for key, name in (("mock_1080p", "1080p"), ("mock_720p", "720p")):
        row = report[key]
        figures[f"step_overhead_ms_{name}"] = figure(
            row["median_ms_changed"],
            "ms",
            f"mock-notepad {name}, changed frames. {method}",
            "< 30 ms" if name == "1080p" else "",
            row["median_ms_changed"] < 30 if name == "1080p" else None,
        )
        figures[f"step_overhead_ms_{name}_unchanged"] = figure(
            row["median_ms_unchanged"], "ms", f"mock-notepad {name}, unchanged frames"
        )
        figures[f"step_overhead_ms_{name}_mean"] = figure(
            row["mean_ms_all"],
            "ms",
            f"mock-notepad {name}, mean over all steps, changed and "
            "unchanged, including the steps that write the long-term memory batch",
        )
    bare = report.get("mock_1080p_no_memory")
    if bare:
        figures["step_overhead_ms_1080p_no_memory"] = figure(
            bare["median_ms_changed"],
            "ms",
            "mock-notepad 1080p, changed frames, with --no-memory (no long-term memory "
            "write or recall): the rest of the framework's own cost",
        )
    figures.update(step_bench.desktop_figures(report))
    return figures


def run(quick: bool = False, desktop: bool = True, log: Any = print) -> dict[str, Any]:
    """Run every benchmark; returns the report (figures, baseline, ratios, details)."""
    from benchmarks import frame_sequences, step_bench

    started = time.perf_counter()
    details: dict[str, Any] = {}
    figures: dict[str, Any] = {}

    log("step overhead (real loop, zero-latency model) ...")
    details["steps"] = step_bench.run(quick=quick, desktop=desktop)
    figures.update(_steps(details["steps"]))

    log("perception: incremental vs full on recorded frame sequences ...")
    details["perception_incremental"] = frame_sequences.run_safely(desktop)
    figures.update(frame_sequences.figures(details["perception_incremental"]))

    log("model calls and input tokens (fake OpenAI server) ...")
    figures.update(_tokens(details, quick))
    log("long-term memory (embedded chromadb) ...")
    figures.update(_memory(details, quick))
    log("skill registry ...")
    figures.update(_skills(details, quick))
    log("OCR-grounded click and replay ...")
    figures.update(_click_and_replay(details, quick))
    if desktop:
        log("grounding: accessibility tree, OCR and contours on real apps under Xvfb ...")
        figures.update(_grounding(details, quick, log))
    log("start-up and memory footprint (cradle run as a new process) ...")
    figures.update(_startup(details, quick, log))

    log("baseline (Cradle-style) ...")
    baseline = _baseline(details, quick)
    ratios = _ratios(figures, baseline)
    figures.update(_against_baseline(ratios))
    return {
        "quick": quick,
        "machine": machine(),
        "figures": figures,
        "baseline": baseline,
        "ratios": ratios,
        "details": details,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _tokens(details: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Model calls and input tokens per step, fused and modular, and when idle steps wait."""
    from benchmarks import token_bench

    figures: dict[str, Any] = {}
    tokens = details["tokens"] = token_bench.run(quick=quick)
    count_method = tokens["fused"]["text_count_method"]
    for mode in ("fused", "modular"):
        row = tokens[mode]
        how = (
            f"{row['steps']} steps of a real session ({mode}, default settings) on "
            "mock-notepad 1920x1080 against tests/fakes/openai_server.py; counted from the "
            "request bodies"
        )
        figures[f"llm_calls_per_step_{mode}"] = figure(
            row["calls_per_step"],
            "calls",
            how,
            "1" if mode == "fused" else "",
            row["calls_per_step"] <= 1 if mode == "fused" else None,
        )
        figures[f"input_tokens_per_step_{mode}"] = figure(
            row["input_tokens_per_step"],
            "tokens",
            f"{how}: text ({count_method}) + response_format schema + images by OpenAI's tile "
            f"formula at the size sent {row['image_sizes_sent']}; per step: text "
            f"{row['text_tokens_per_step']}, schema {row['schema_tokens_per_step']}, images "
            f"{row['image_tokens_per_step']}",
            "< 3000" if mode == "fused" else "",
            row["input_tokens_per_step"] < 3000 if mode == "fused" else None,
        )
    waiting = tokens["fused_waiting"]
    figures["llm_calls_per_step_fused_when_waiting"] = figure(
        waiting["calls_per_step"],
        "calls",
        f"as llm_calls_per_step_fused, but every other step the model plans "
        f"wait(seconds=0.1) and the screen stays identical: idle steps repeat the wait "
        f"without a call ({waiting['calls']} calls over {waiting['steps']} steps)",
        "< 1",
        waiting["calls_per_step"] < 1,
    )
    return figures


def _memory(details: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Query time and insert rate of the embedded store at its largest size measured."""
    from benchmarks import memory_bench

    rng = np.random.default_rng(7)
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, 100_000]
    with tempfile.TemporaryDirectory(prefix="cradle-bench-memory-") as tmp:
        scale, _ = memory_bench.measure_scale(Path(tmp) / "m", sizes, 200 if quick else 500, rng)
    details["memory"] = scale
    largest = scale[-1]
    note = " (QUICK: 10k memories, not 100k)" if quick else ""
    return {
        "memory_query_ms_p50": figure(
            largest["query_top5"]["p50_ms"],
            "ms",
            f"top-5 query through VectorMemory.search_vector at {largest['memories']:,} "
            f"memories{note}; synthetic clustered 384-d vectors (benchmarks/memory_bench.py)",
            "< 5 ms at 100k",
            largest["query_top5"]["p50_ms"] < 5 if not quick else None,
        ),
        "memory_add_per_s": figure(
            largest["add_per_s"],
            "memories/s",
            f"upsert of precomputed vectors growing the store to {largest['memories']:,}{note}",
        ),
    }


def _skills(details: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Loading 1,000 skill files, trusted and checked, and one isolated skill call."""
    from benchmarks import skills_bench

    figures: dict[str, Any] = {}
    skills = details["skills"] = skills_bench.run(repeat=1 if quick else 3)
    for kind in ("trusted", "untrusted"):
        figures[f"skill_registry_load_ms_1000_{kind}"] = figure(
            skills[f"{kind}_ms"],
            "ms",
            f"SkillRegistry.load of 1,000 generated skill files ({kind}"
            f"{', checked, declarations only' if kind == 'untrusted' else ''}), median of "
            f"{skills['repeat']} cold loads",
            "< 1000 ms",
            skills[f"{kind}_ms"] < 1000,
        )
    isolated = skills["call_ms"]["isolated"]
    figures["isolated_skill_call_ms"] = figure(
        isolated,
        "ms",
        f"a model-written skill that clicks and types, run in its own limited process "
        f"(median of {skills['calls']} calls; the same file run trusted in-process: "
        f"{skills['call_ms']['trusted']} ms; benchmarks/skills_bench.py)",
        "< 100 ms (a model call takes seconds)",
        isolated < 100,
    )
    return figures


def _click_and_replay(details: dict[str, Any], quick: bool) -> dict[str, Any]:
    """An OCR-grounded click on a generated 1080p frame, and replaying the recorded demo."""
    from benchmarks import perception_bench, replay_bench

    hd = perception_bench.bench_size((1920, 1080), 3 if quick else 9, None)
    details["perception_1080p"] = hd
    replay = details["replay"] = replay_bench.run(repeat=1 if quick else 3)
    return {
        "ocr_click_latency_ms_1080p": figure(
            hd["click_text_latency"],
            "ms",
            "digest + tesseract OCR of a generated 1920x1080 desktop frame + text match "
            "(benchmarks/perception_bench.py; capture not included)",
            "< 500 ms",
            hd["click_text_latency"] < 500,
        ),
        "replay_actions_per_s": figure(
            replay["actions_per_s"],
            "actions/s",
            f"replay_run of the recorded demo ({replay['actions']} actions, {replay['steps']} "
            "steps) with default settle waits and screen checks, best of the repeats",
        ),
    }


def _grounding(details: dict[str, Any], quick: bool, log: Any) -> dict[str, Any]:
    """Per app, the share of its widgets the merged elements find (benchmarks/grounding_bench);
    a missing Xvfb, D-Bus or app is one line in the report, not the end of the run."""
    from benchmarks import grounding_bench
    from cradle.errors import CradleError

    try:
        report = grounding_bench.run(quick=quick, log=log)
    except CradleError as exc:
        log(f"grounding: not measured: {exc}")
        details["grounding"] = {"error": str(exc)}
        return {"grounding_found_pct": figure(None, "%", f"not measured: {exc}")}
    report["command"] = "cradle bench" + (" --quick" if quick else "")
    details["grounding"] = report
    return grounding_bench.figures(report)


def _startup(details: dict[str, Any], quick: bool, log: Any) -> dict[str, Any]:
    """Launch to the first model request with and without memory, and the peak RSS of a
    20-step run (benchmarks/startup_bench.py); a run that fails is one line in the report."""
    from benchmarks import startup_bench

    try:
        report = startup_bench.run(quick=quick)
    except Exception as exc:  # noqa: BLE001 - reported, not the end of the whole run
        log(f"start-up: not measured: {exc}")
        details["startup"] = {"error": str(exc)}
        return {
            name: figure(None, unit, f"not measured: {exc}")
            for name, unit in (
                ("startup_s_memory", "s"),
                ("startup_s_no_memory", "s"),
                ("peak_rss_mb_20_steps", "MB"),
            )
        }
    details["startup"] = report
    return startup_bench.figures(report)


BASELINE_STEP_GOAL = 0.4
"""A mock 1080p step costs at most this share of the Cradle-style baseline's."""


def _against_baseline(ratios: dict[str, float | None]) -> dict[str, Any]:
    value = ratios.get("step_overhead_ms_1080p / baseline")
    return {
        "step_overhead_1080p_vs_baseline": figure(
            value,
            "x",
            "step_overhead_ms_1080p divided by the Cradle-style baseline's "
            "(modular, PNG, full resolution) measured in the same run (see ratios)",
            f"<= {BASELINE_STEP_GOAL:g}",
            None if value is None else value <= BASELINE_STEP_GOAL,
        )
    }


def _baseline(details: dict[str, Any], quick: bool) -> dict[str, Any]:
    """The Cradle-style configuration: modular calls, full-resolution PNG screenshots."""
    from benchmarks import step_bench

    tokens = details["tokens"]["baseline"]
    with tempfile.TemporaryDirectory(prefix="cradle-bench-baseline-") as tmp:
        steps = step_bench.run_loop(
            "mock-notepad",
            {"size": "1920x1080"},
            13 if quick else 25,
            Path(tmp),
            max_image_side=1920,
            mode="modular",
            image_format="png",
        )
    details["steps"]["baseline_mock_1080p"] = steps
    how = "modular, --max-image-side 1920, image_format png"
    return {
        "step_overhead_ms_1080p": figure(steps["median_ms_changed"], "ms", how),
        "llm_calls_per_step": figure(tokens["calls_per_step"], "calls", how),
        "input_tokens_per_step": figure(tokens["input_tokens_per_step"], "tokens", how),
        "request_bytes_per_step": figure(tokens.get("request_bytes_per_step"), "bytes", how),
    }


def _ratios(figures: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float | None]:
    pairs = {
        "step_overhead_ms_1080p": "step_overhead_ms_1080p",
        "llm_calls_per_step_fused": "llm_calls_per_step",
        "input_tokens_per_step_fused": "input_tokens_per_step",
    }
    out: dict[str, float | None] = {}
    for ours, theirs in pairs.items():
        a, b = figures[ours]["value"], baseline[theirs]["value"]
        out[f"{ours} / baseline"] = round(a / b, 3) if a is not None and b else None
    return out
