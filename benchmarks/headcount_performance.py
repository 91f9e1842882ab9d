"""Company-posterior performance: 10,000 companies, 1,000,000 employees, 6 annotators, 1,000 draws.

Employees' annotation patterns are real rated-CV rows resampled by true class (plasmode), so the number
of distinct patterns per company is realistic. Each size runs in a fresh process so peak memory (max RSS,
including building the inputs) is per size.

    .venv/bin/python benchmarks/headcount_performance.py                 # 100k, 300k, 1M, 3M employees
    .venv/bin/python benchmarks/headcount_performance.py --employees 1000000 --method saturated
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "annotations" / "validation_annotations.csv"


def build_inputs(n_companies: int, n_employees: int, seed: int = 0):
    from workforce_assets.annotation.names import canonical_annotator_name
    from workforce_assets.headcount.simulation import plasmode_world

    source = pl.read_csv(DATA).drop("cv_text")
    source = source.rename({c: canonical_annotator_name(c) for c in source.columns if c not in ("cv_id", "is_ml_expert")})
    annotators = [c for c in source.columns if c not in ("cv_id", "is_ml_expert")]
    rng = np.random.default_rng(seed)
    # sample sizes log-uniform over 10..(30 x mean), rescaled to exactly n_employees in total
    mean = n_employees / n_companies
    sizes = np.exp(rng.uniform(np.log(10), np.log(30 * mean), n_companies))
    sizes = np.maximum(1, np.floor(sizes * n_employees / sizes.sum())).astype(np.int64)
    while sizes.sum() != n_employees:  # rounding: take from / give to the largest samples
        step = np.sign(n_employees - sizes.sum())
        order = np.argsort(-sizes)[: abs(int(n_employees - sizes.sum()))]
        sizes[order] = np.maximum(1, sizes[order] + step)
    return plasmode_world(rng, source, annotators, n_companies=n_companies, zero_share=0.25,
                          prevalence_beta=(0.7, 3.0), headcount_range=(20, 200_000), sample_sizes=sizes)


def run_one(n_companies: int, n_employees: int, n_draws: int, method: str, fit: str, n_bootstrap: int) -> dict:
    from workforce_assets.headcount.posterior import estimate_company_headcounts

    started = time.perf_counter()
    world = build_inputs(n_companies, n_employees)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    estimate = estimate_company_headcounts(world.rated, world.samples, world.companies, world.annotators,
                                           n_draws=n_draws, seed=1, method=method, fit=fit, n_bootstrap=n_bootstrap)
    seconds = time.perf_counter() - started
    table = estimate.summary.join(world.truth.select("company_id", "true_count"), on="company_id")
    coverage80 = float(((table["q10"] <= table["true_count"]) & (table["true_count"] <= table["q90"])).mean())
    return {
        "companies": n_companies, "employees": int(world.samples.height), "draws": n_draws, "method": method,
        "fit": fit, "n_bootstrap": n_bootstrap, "seconds": round(seconds, 2), "build_seconds": round(build_seconds, 2),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2),
        "distinct_patterns": estimate.diagnostics["n_patterns"], "company_pattern_cells": estimate.diagnostics["n_entries"],
        "coverage80": round(coverage80, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, nargs="*", default=[100_000, 300_000, 1_000_000, 3_000_000])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=1_000)
    parser.add_argument("--method", default="saturated")
    parser.add_argument("--fit", default="semi_supervised")
    parser.add_argument("--bootstrap", type=int, default=20)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.companies, args.employees[0], args.draws, args.method, args.fit, args.bootstrap)))
        return
    print("| companies | employees | draws | method | seconds | peak RSS (GB) | distinct patterns | company x pattern cells | 80% coverage |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.employees:
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--employees", str(n), "--companies", str(args.companies),
             "--draws", str(args.draws), "--method", args.method, "--fit", args.fit, "--bootstrap", str(args.bootstrap)],
            capture_output=True, text=True, check=True, cwd=REPO,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {row['companies']:,} | {row['employees']:,} | {row['draws']:,} | {row['method']}/{row['fit']} "
              f"(B={row['n_bootstrap']}) | {row['seconds']} | {row['peak_rss_gb']} | {row['distinct_patterns']} | "
              f"{row['company_pattern_cells']:,} | {row['coverage80']} |", flush=True)


if __name__ == "__main__":
    main()
