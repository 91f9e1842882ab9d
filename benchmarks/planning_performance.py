"""Planning at scale: the sampling plan's pre-posterior widths and the rating plan on 10,000 companies.

The world is headcount_performance.py's (plasmode: real rated-CV rows resampled by true class; six
annotators; 1,000,000 employees). Times: the default HeadcountModel fit (for reference), expected widths
after 10 / 50 / 200 more employees for every company (the asset's default: 40 simulations x 100 prevalence
draws), the budget plan and its curve, and the rating plan (100 profiles).

    .venv/bin/python benchmarks/planning_performance.py [--companies 10000] [--employees 1000000]
"""

from __future__ import annotations

import argparse
import json
import time

import polars as pl

from headcount_performance import build_inputs  # benchmarks/ is on sys.path when run as a script


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--employees", type=int, default=1_000_000)
    args = parser.parse_args()
    from workforce_assets.headcount.model import HeadcountModel
    from workforce_assets.planning import rating, sampling

    world = build_inputs(args.companies, args.employees)
    times = {}
    started = time.perf_counter()
    model = HeadcountModel(predictive_replicates=0, compare_excluded=False).fit(
        world.rated, world.samples, world.companies, world.annotators, seed=1)
    times["headcount fit"] = time.perf_counter() - started
    started = time.perf_counter()
    widths = sampling.expected_widths(model)
    times["expected widths (every company)"] = time.perf_counter() - started
    started = time.perf_counter()
    plan = sampling.plan_sampling(widths, 3 * 0.002, 100.0)
    curve = sampling.budget_curve(widths, 3 * 0.002, [10.0, 100.0, 1000.0])
    times["plan + budget curve"] = time.perf_counter() - started
    started = time.perf_counter()
    ratings = rating.plan_ratings(model, world.samples, n_items=100)
    times["rating plan"] = time.perf_counter() - started
    print(json.dumps({"companies": args.companies, "employees": args.employees,
                      "seconds": {k: round(v, 1) for k, v in times.items()},
                      "planned_companies": int((plan["planned_additional"] > 0).sum()),
                      "rating_plan_rows": ratings.height}))
    print(curve.with_columns(pl.col(pl.Float64).round(0)))


if __name__ == "__main__":
    main()
