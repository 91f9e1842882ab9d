"""Benchmark: LLM annotation throughput against the local OpenAI-compatible server, and the rerun's cache hits.

    PYTHONPATH=. .venv/bin/python benchmarks/annotation_llm_throughput.py [--n 300] [--latency 0.05]

The server (workforce_assets_tests/annotation/fake_llm_server.py) answers after ``--latency`` seconds, a
stand-in for a vendor's network round trip, so the numbers measure our client path (litellm, semaphore,
parsing, DuckDB cache writes) and how concurrency hides latency; they are not vendor throughput.
Texts are real rated CVs (../shared/data). Prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import polars as pl

from workforce_assets.annotation.llm import LLMAnnotator, annotate_with_llms
from workforce_assets_tests.annotation.fake_llm_server import FakeLLMServer

REPO = Path(__file__).resolve().parent.parent
RATED = REPO.parent / "shared" / "data" / "annotations" / "validation_annotations.csv"
KEY_ENV = "WORKFORCE_BENCH_FAKE_LLM_KEY"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="number of CVs per run")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency per call, seconds")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    os.environ[KEY_ENV] = "bench"

    rated = pl.read_csv(RATED)
    items = (rated.unique("cv_text", keep="first", maintain_order=True).head(args.n)
             .select(pl.col("cv_id").alias("item_id"), pl.col("cv_text").alias("text")))
    with FakeLLMServer(latency_s=args.latency) as server:
        annotator = LLMAnnotator("llm_bench", "openai/gpt-4o-mini", KEY_ENV, api_base=server.api_base)
        # warm litellm's lazy imports and HTTP client once, outside the timings
        with tempfile.TemporaryDirectory() as warm:
            annotate_with_llms(items.head(1), [annotator], Path(warm) / "warm.duckdb")
        for concurrency in args.concurrency:
            with tempfile.TemporaryDirectory() as folder:
                cache = Path(folder) / "cache.duckdb"
                before = server.n_requests()
                started = time.perf_counter()
                first = annotate_with_llms(items, [annotator], cache, concurrency=concurrency, budget_usd=100)
                first_s = time.perf_counter() - started
                calls = server.n_requests() - before
                started = time.perf_counter()
                rerun = annotate_with_llms(items, [annotator], cache, concurrency=concurrency, budget_usd=100)
                rerun_s = time.perf_counter() - started
                latencies = first.calls["latency_s"]
                print(json.dumps({
                    "benchmark": "llm_throughput_local_server",
                    "n_items": items.height,
                    "server_latency_s": args.latency,
                    "concurrency": concurrency,
                    "seconds": round(first_s, 2),
                    "items_per_s": round(items.height / first_s, 1),
                    "http_requests": calls,
                    "latency_p50_s": round(float(latencies.quantile(0.5)), 3),
                    "latency_p95_s": round(float(latencies.quantile(0.95)), 3),
                    "labelled": int(first.rows["label"].is_not_null().sum()),
                    "cost_usd": round(first.stats["cost_usd"], 5),
                    "rerun_seconds": round(rerun_s, 2),
                    "rerun_http_requests": server.n_requests() - before - calls,
                    "rerun_cache_hit_rate": rerun.stats["n_cached"] / rerun.stats["n_requested"],
                    "rerun_rows_identical": rerun.rows.equals(first.rows),
                    "load_avg": [round(x, 2) for x in os.getloadavg()],
                }))


if __name__ == "__main__":
    main()
