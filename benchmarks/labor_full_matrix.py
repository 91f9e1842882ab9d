"""Benchmark: score every cell of a 25,000 companies x 8,000 archetypes matrix (200 million cells).

    .venv/bin/python benchmarks/labor_full_matrix.py [--companies 25000] [--archetypes 8000] [--density 0.0003]

The matrix is synthetic at the original's sparsity (0.03% observed) with Zipf popularity (exponent 1)
and clustered companies (workforce_assets.labor.synthetic.synthetic_archetype_matrix). Stages are timed
separately: generation, feature context, model fit (inner-mask protocol on the whole matrix) and the
chunked full-matrix scoring (top-20 per company + every cell with probability >= 0.5). Peak memory is the
process's maximum resident set size (includes Python, polars, LightGBM). Prints one JSON line.
Target (issue 5, section 6): scoring <= 5 minutes and <= 4 GB peak on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time

import numpy as np

from workforce_assets.labor.existence import FeatureContext, fit_existence_model, score_context
from workforce_assets.labor.matrix import to_sparse
from workforce_assets.labor.synthetic import synthetic_archetype_matrix


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=25_000)
    parser.add_argument("--archetypes", type=int, default=8_000)
    parser.add_argument("--density", type=float, default=0.0003)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    timings: dict[str, float] = {}
    start = time.perf_counter()
    matrix = synthetic_archetype_matrix(args.companies, args.archetypes, args.density, seed=args.seed)
    timings["generate_s"] = time.perf_counter() - start

    start = time.perf_counter()
    model = fit_existence_model(matrix, seed=args.seed, n_estimators=args.n_estimators)
    timings["fit_s"] = time.perf_counter() - start
    rss_after_fit = peak_rss_gb()

    start = time.perf_counter()
    labels = to_sparse(matrix)
    context = FeatureContext.from_observed(labels, labels.observed)
    timings["context_s"] = time.perf_counter() - start

    start = time.perf_counter()
    top, above = score_context(model, context, top_k=args.top_k, threshold=args.threshold)
    timings["score_s"] = time.perf_counter() - start

    n_companies, n_archetypes = labels.shape
    popularity = np.sort(np.asarray(labels.observed.sum(axis=0)).ravel())[::-1]
    linked_share = _linked_share(context)
    print(json.dumps({
        "benchmark": "labor_full_matrix",
        "n_companies": n_companies,
        "n_archetypes": n_archetypes,
        "n_cells": n_companies * n_archetypes,
        "n_observed": int(labels.observed.nnz),
        "density": labels.observed.nnz / (n_companies * n_archetypes),
        "popularity_top1_top10_median": [int(popularity[0]), int(popularity[9]), float(np.median(popularity))],
        "linked_cell_share_sample": linked_share,
        "model_kind": model.kind,
        "n_train_pairs": model.n_train_pairs,
        **{k: round(v, 2) for k, v in timings.items()},
        "score_plus_context_s": round(timings["score_s"] + timings["context_s"], 2),
        "top_k_rows": top.height,
        "above_threshold_rows": above.height,
        "peak_rss_gb_after_fit": round(rss_after_fit, 3),
        "peak_rss_gb": round(peak_rss_gb(), 3),
        "cpu_count": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0],
        "python": platform.python_version(),
    }))


def _linked_share(context: FeatureContext) -> float:
    """Share of cells that go through the full model, on a sample of 500 companies (for the report)."""
    rows = np.arange(0, context.observed.shape[0], max(1, context.observed.shape[0] // 500))
    return float(context.link_block(rows).linked.mean())


if __name__ == "__main__":
    main()
