"""Long-term memory benchmark: add throughput and query latency at 1k / 10k / 100k memories.

    python -m benchmarks.memory_bench            # full: 1k, 10k, 100k (about 3 minutes)
    python -m benchmarks.memory_bench --quick    # 1k and 10k, under a minute
    python -m benchmarks.memory_bench --json out.json

What is measured, and how:

* Embedding cost: the offline MiniLM embedder on generated step texts, as ms per text in
  batches and ms per single query. Measured separately from the store.
* Store scale: the store is filled with PRECOMPUTED SYNTHETIC vectors, not embedded texts
  (embedding 100k texts would take ~6 minutes and measures the model, not the store). They
  are made to look like sentence embeddings rather than uniform noise: a shared direction
  (sentence embeddings are anisotropic), topic clusters, and per-item noise, L2-normalised,
  384-d. Each entry carries the same metadata and a text of the size a real step has.
  Queries are perturbed copies of stored vectors (a situation close to a past one).
  The store grows 1k -> 10k -> 100k in one folder; add throughput is per increment.
* Query latency: top-5 through ``VectorMemory.search_vector`` (chromadb HNSW, cosine),
  p50/p95 over many queries; also with an environment filter, and ANN recall@5 against an
  exact numpy search.
* Server: the same queries through ``chroma run`` on loopback (``HttpClient``).
* Retrieval quality: top-1/top-3 of 30 paraphrased requests against skill descriptions.

The goal reported against: top-5 query p50 under 5 ms at 100k memories (embedded).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from cradle.memory.embedders import MiniLMEmbedder
from cradle.memory.store import VectorMemory
from cradle.testing.chroma_server import local_chroma_server
from cradle.testing.paraphrases import SKILL_PARAPHRASES, paraphrase_recall

DIMENSION = 384
ENVIRONMENTS = ("notepad", "browser", "calculator", "terminal", "files")


class SyntheticEmbedder:
    """Stands in for MiniLM's identity when the store is filled with precomputed vectors."""

    name = MiniLMEmbedder.name
    dimension = DIMENSION

    def embed(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("the benchmark passes vectors; nothing should be embedded")


def synthetic_vectors(count: int, rng: np.random.Generator, topics: np.ndarray) -> np.ndarray:
    """Anisotropic, clustered, normalised vectors shaped like sentence embeddings."""
    common = np.full(DIMENSION, 1.0 / np.sqrt(DIMENSION), dtype=np.float32)
    picks = rng.integers(0, len(topics), size=count)
    noise = rng.normal(size=(count, DIMENSION)).astype(np.float32) / np.sqrt(DIMENSION)
    vectors = 0.5 * common + topics[picks] + 0.8 * noise
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def step_texts(start: int, count: int) -> list[str]:
    """Texts of the size and shape a remembered step has (~250 characters)."""
    verbs = ("click", "type_text", "hotkey", "scroll", "double_click")
    return [
        f"Task: task {i % 997} in {ENVIRONMENTS[i % 5]}\nSubtask: subtask {i % 211}\n"
        f"Actions: {verbs[i % 5]}(x={i % 800}, y={i % 600}) -> ok; "
        f"{verbs[(i + 1) % 5]}(text='item {i}') -> {'ok' if i % 7 else 'failed'}\n"
        f"Reflection: the screen changed as expected after step {i % 40}"
        for i in range(start, start + count)
    ]


def metadatas(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "kind": "step" if i % 10 else "lesson",
            "environment": ENVIRONMENTS[i % 5],
            "task": f"task {i % 997}",
            "run_id": f"run-{i // 40}",
            "step": i % 40,
            "success": bool(i % 7),
            "time": "2025-01-01T00:00:00+00:00",
        }
        for i in range(start, start + count)
    ]


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered), 3), "p95_ms": round(p95, 3)}


def time_queries(memory: VectorMemory, queries: np.ndarray, **filters: Any) -> dict[str, float]:
    for vector in queries[:5]:
        memory.search_vector(vector, 5, **filters)  # warm caches
    samples = []
    for vector in queries:
        start = time.perf_counter()
        memory.search_vector(vector, 5, **filters)
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def ann_recall(memory: VectorMemory, stored: np.ndarray, queries: np.ndarray) -> float:
    """Share of the exact top-5 (numpy, cosine) that chromadb's HNSW returns."""
    hits = 0
    for vector in queries:
        exact = set(np.argsort(-(stored @ vector))[:5].tolist())
        found = {int(item.metadata["id"].split(":")[1]) for item in memory.search_vector(vector, 5)}
        hits += len(exact & found)
    return round(hits / (5 * len(queries)), 3)


def measure_embedding(embedder: MiniLMEmbedder) -> dict[str, float]:
    texts = step_texts(0, 256)
    embedder.embed(texts[:8])  # load the model
    start = time.perf_counter()
    embedder.embed(texts)
    batch_ms = (time.perf_counter() - start) * 1000 / len(texts)
    samples = []
    for _, _, query in SKILL_PARAPHRASES * 2:
        start = time.perf_counter()
        embedder.embed([query])
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "ms_per_text_batched": round(batch_ms, 3),
        "ms_per_query": percentiles(samples)["p50_ms"],
    }


def measure_scale(
    folder: Path, sizes: list[int], query_count: int, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], np.ndarray]:
    topics = rng.normal(size=(200, DIMENSION)).astype(np.float32) * (0.9 / np.sqrt(DIMENSION))
    vectors = synthetic_vectors(max(sizes), rng, topics)
    results = []
    memory = VectorMemory.open(folder, None, embedder=SyntheticEmbedder())
    try:
        have = 0
        for size in sizes:
            count = size - have
            start = time.perf_counter()
            memory.add(
                step_texts(have, count),
                metadatas(have, count),
                [f"m:{i}" for i in range(have, size)],
                embeddings=vectors[have:size],
            )
            seconds = time.perf_counter() - start
            have = size
            picks = rng.integers(0, size, size=query_count)
            noise = rng.normal(size=(query_count, DIMENSION)).astype(np.float32) * 0.03
            queries = vectors[picks] + noise
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)
            row = {
                "memories": size,
                "add_per_s": round(count / seconds),
                "query_top5": time_queries(memory, queries),
                "query_top5_env_filter": time_queries(
                    memory, queries[: max(20, query_count // 5)], environment="notepad"
                ),
                "ann_recall_at_5": ann_recall(memory, vectors[:size], queries[:50]),
            }
            results.append(row)
            print(
                f"  {size:>7,} memories: add {row['add_per_s']:>6,}/s, top-5 query "
                f"p50 {row['query_top5']['p50_ms']:.2f} ms p95 "
                f"{row['query_top5']['p95_ms']:.2f} ms, with env filter p50 "
                f"{row['query_top5_env_filter']['p50_ms']:.2f} ms, ANN recall@5 "
                f"{row['ann_recall_at_5']:.3f}",
                flush=True,
            )
    finally:
        memory.close()
    return results, vectors


def measure_server(
    folder: Path, vectors: np.ndarray, size: int, query_count: int, rng: np.random.Generator
) -> dict[str, Any]:
    with local_chroma_server(folder) as url:
        with VectorMemory.open(None, url, embedder=SyntheticEmbedder()) as memory:
            start = time.perf_counter()
            memory.add(
                step_texts(0, size),
                metadatas(0, size),
                [f"m:{i}" for i in range(size)],
                embeddings=vectors[:size],
            )
            add_per_s = round(size / (time.perf_counter() - start))
            picks = rng.integers(0, size, size=query_count)
            queries = vectors[picks]
            row = {
                "memories": size,
                "add_per_s": add_per_s,
                "query_top5": time_queries(memory, queries),
            }
        print(
            f"  server {size:,} memories: add {add_per_s:,}/s, top-5 query p50 "
            f"{row['query_top5']['p50_ms']:.2f} ms p95 {row['query_top5']['p95_ms']:.2f} ms",
            flush=True,
        )
        return row


def run(quick: bool = False) -> dict[str, Any]:
    """Run every measurement; returns (and prints) the figures."""
    rng = np.random.default_rng(7)
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, 100_000]
    query_count = 200 if quick else 500
    report: dict[str, Any] = {"quick": quick, "vectors": "synthetic clustered, 384-d"}
    embedder = MiniLMEmbedder()
    print("embedding (MiniLM int8, onnxruntime):", flush=True)
    report["embedding"] = measure_embedding(embedder)
    print(
        f"  {report['embedding']['ms_per_text_batched']:.2f} ms a text in batches, "
        f"{report['embedding']['ms_per_query']:.2f} ms a query",
        flush=True,
    )
    top1, top3 = paraphrase_recall(embedder)
    report["paraphrase_recall"] = {
        "top1": round(top1, 3),
        "top3": round(top3, 3),
        "queries": len(SKILL_PARAPHRASES),
    }
    print(f"  paraphrase retrieval: top-1 {top1:.2f}, top-3 {top3:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cradle-memory-bench-") as tmp:
        print("embedded store (PersistentClient):", flush=True)
        report["embedded"], vectors = measure_scale(Path(tmp) / "embedded", sizes, query_count, rng)
        print("server (chroma run + HttpClient, loopback):", flush=True)
        report["server"] = measure_server(
            Path(tmp) / "server", vectors, 2_000 if quick else 10_000, 200, rng
        )
    largest = report["embedded"][-1]
    report["goal"] = {
        "target": "top-5 query p50 < 5 ms at 100k (embedded)",
        "memories": largest["memories"],
        "p50_ms": largest["query_top5"]["p50_ms"],
        "met": largest["query_top5"]["p50_ms"] < 5.0 if largest["memories"] >= 100_000 else None,
    }
    return report


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="stop at 10k (under a minute)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = run(quick=args.quick)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
