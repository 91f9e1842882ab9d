"""Company-posterior performance: 10,000 companies, 1,000,000 employees, 6 annotators, 1,000 draws.

Employees' annotation patterns are real rated-CV rows resampled by true class (plasmode), so the number
of distinct patterns per company is realistic. Each size runs in a fresh process so peak memory (max RSS,
including building the inputs) is per size.

    .venv/bin/python benchmarks/headcount_performance.py                 # 100k, 300k, 1M, 3M employees
    .venv/bin/python benchmarks/headcount_performance.py --employees 1000000  # the issue's size

The estimator is ``HeadcountModel()`` with its defaults (transport checks, semi-supervised saturated model,
log-spline prior, per-company predictive check); ``--method`` / ``--fit`` / ``--bootstrap`` override them.
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


def run_one(n_companies: int, n_employees: int, n_draws: int, options: dict) -> dict:
    from workforce_assets.headcount.model import HeadcountModel

    started = time.perf_counter()
    world = build_inputs(n_companies, n_employees)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model = HeadcountModel(**options).fit(world.rated, world.samples, world.companies, world.annotators, seed=1)
    fit_seconds = time.perf_counter() - started
    estimate = model.sample(n_draws, seed=1)
    seconds = time.perf_counter() - started
    table = estimate.summary.join(world.truth.select("company_id", "true_count"), on="company_id")
    coverage80 = float(((table["q10"] <= table["true_count"]) & (table["true_count"] <= table["q90"])).mean())
    options = model.options_
    return {
        "companies": n_companies, "employees": int(world.samples.height), "draws": n_draws,
        "method": f"{options.method}/{options.fit}/{options.prior}", "n_bootstrap": len(model.replicates_),
        "seconds": round(seconds, 2), "fit_seconds": round(fit_seconds, 2), "build_seconds": round(build_seconds, 2),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2),
        "distinct_patterns": estimate.diagnostics["n_patterns"], "company_pattern_cells": estimate.diagnostics["n_entries"],
        "coverage80": round(coverage80, 3), "excluded": ",".join(model.excluded_annotators_) or "none",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, nargs="*", default=[100_000, 300_000, 1_000_000, 3_000_000])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=1_000)
    parser.add_argument("--method", help="annotator model (default: the estimator's default)")
    parser.add_argument("--fit", help="supervised / semi_supervised (default: the estimator's default)")
    parser.add_argument("--bootstrap", type=int, help="bootstrap replicates (default: the estimator's default)")
    parser.add_argument("--prior", help="auto / log_spline / beta (default: the estimator's default)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        options = {key: value for key, value in (("method", args.method), ("fit", args.fit),
                                                  ("n_bootstrap", args.bootstrap), ("prior", args.prior))
                   if value is not None}
        print(json.dumps(run_one(args.companies, args.employees[0], args.draws, options)))
        return
    print("| companies | employees | draws | estimator | seconds (fit + draws) | of which fit | peak RSS (GB) | distinct patterns | company x pattern cells | 80% coverage | excluded |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.employees:
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--employees", str(n), "--companies", str(args.companies),
             "--draws", str(args.draws)]
            + [item for flag, value in (("--method", args.method), ("--fit", args.fit), ("--bootstrap", args.bootstrap),
                                                      ("--prior", args.prior))
               if value is not None for item in (flag, str(value))],
            capture_output=True, text=True, check=True, cwd=REPO,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {row['companies']:,} | {row['employees']:,} | {row['draws']:,} | {row['method']} "
              f"(B={row['n_bootstrap']}) | {row['seconds']} | {row['fit_seconds']} | {row['peak_rss_gb']} | "
              f"{row['distinct_patterns']} | {row['company_pattern_cells']:,} | {row['coverage80']} | {row['excluded']} |",
              flush=True)


if __name__ == "__main__":
    main()
