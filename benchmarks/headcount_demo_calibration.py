"""Calibration of the company headcount posteriors on the simulated demo world (prints markdown tables).

For each demo seed: generate the default-size demo world (workforce_assets.demo), build the rated-CV and
company-sample wide matrices with the core functions only (no Dagster: the LLM labels as imported, the
three keyword filters from apply_keyword_filters on the texts, empty texts -> missing filter labels), run
estimate_company_headcounts for each candidate estimator and compare its 50/80/90% intervals and posterior
mean with the whole-company true count (truth/company_truth.csv), overall and by true-prevalence band
(workforce_assets.headcount.demo_calibration).

Unlike the plasmode of the real rated CVs (benchmarks/headcount_calibration.py), the filters here are
deterministic functions of the text and the employees' patterns come from the demo's own generative model,
with many companies at 0.5-2% experts: a second, independent world. ~1 minute for 5 seeds.

    .venv/bin/python benchmarks/headcount_demo_calibration.py                    # seeds 7..11, all estimators
    .venv/bin/python benchmarks/headcount_demo_calibration.py --seeds 7 8 --estimators default probit
    .venv/bin/python benchmarks/headcount_demo_calibration.py --estimators "default (auto)" --option rated_resample_rounds=1
    .venv/bin/python benchmarks/headcount_demo_calibration.py --estimators "default (auto)" --oracle   # + the exact posterior
"""

from __future__ import annotations

import argparse
import time

import polars as pl

from workforce_assets.headcount.calibration import summarise
from workforce_assets.headcount.demo_calibration import demo_profile_population, run_demo_seed
from estimator_options import add_option_argument, apply_options
from markdown_table import markdown  # benchmarks/markdown_table.py (the script's folder is on sys.path)

ESTIMATORS = {
    "default (auto)": {},
    "saturated, semi-supervised": {"method": "saturated", "fit": "semi_supervised"},
    "prior family by held-out likelihood": {"prior": "auto"},
    "default with a zero atom in the EM": {"em_zero_atom": True},
    # EM run to convergence (the default stops once no expected count moves by 1e-3 of its pattern's total)
    "default, EM converged": {"em_tolerance": 1e-7, "em_iterations": 3000, "replicate_em_iterations": 300},
    "default, EM converged, zero atom": {"em_tolerance": 1e-7, "em_iterations": 3000, "replicate_em_iterations": 300,
                                         "em_zero_atom": True},
    # ... with the log-spline prior (the final posterior's) in the E-step instead of the zero-inflated Beta
    "default, EM converged, log-spline E-step": {"em_tolerance": 1e-7, "em_iterations": 3000,
                                                 "replicate_em_iterations": 300, "em_prior": "log_spline"},
    "default, EM converged, log-spline E-step, zero atom": {"em_tolerance": 1e-7, "em_iterations": 3000,
                                                            "replicate_em_iterations": 300, "em_prior": "log_spline",
                                                            "em_zero_atom": True},
    # replicates alternate between the EM fits without and with a zero atom in the E-step (model averaging)
    "default, E-step atom averaged": {"em_zero_atom": "both"},
    "default, EM converged, E-step atom averaged": {"em_tolerance": 1e-7, "em_iterations": 3000,
                                                    "replicate_em_iterations": 300, "em_zero_atom": "both"},
    # the default before the fix: zero atom in the EM's E-step prior, prior fitted to all companies only (Beta prior)
    "saturated, semi-supervised, before fix": {"method": "saturated", "fit": "semi_supervised", "em_zero_atom": True,
                                               "bootstrap_companies": False, "prior": "beta", "transport_policy": "off"},
    "probit, supervised": {"method": "probit", "fit": "supervised"},
    "log-linear, semi-supervised": {"method": "loglinear", "fit": "semi_supervised"},
    "log-linear, supervised": {"method": "loglinear", "fit": "supervised"},
    "saturated, supervised": {"method": "saturated", "fit": "supervised"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9, 10, 11])
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--estimators", nargs="+", help="name prefixes of the estimators to run (default: all)")
    parser.add_argument("--oracle", action="store_true",
                        help="also the exact posterior under the demo's true pattern distributions (from ~200,000 "
                             "profiles of an independent demo world) and its marginal prevalence distribution")
    add_option_argument(parser)
    args = parser.parse_args()
    estimators = {k: v for k, v in ESTIMATORS.items()
                  if not args.estimators or any(k.startswith(p) for p in args.estimators)}
    estimators = apply_options(estimators, args.option)
    started = time.perf_counter()
    population = demo_profile_population() if args.oracle else None
    results = pl.concat([run_demo_seed(seed, estimators, args.draws, population=population) for seed in args.seeds],
                        how="diagonal_relaxed")
    print(f"demo seeds {args.seeds} (default-size worlds), {args.draws} draws; {time.perf_counter() - started:.0f} s\n")
    extra = results.group_by("estimator", maintain_order=True).agg(
        pl.col("resolved").unique().sort().str.join(", "), pl.col("zero_weight").unique().mean().alias("prior zero weight"),
        pl.col("seconds").unique().mean().alias("seconds per seed"))
    overall = summarise(results, ["estimator"]).join(extra, on="estimator", how="left")
    majority_mae = overall.filter(pl.col("estimator") == "majority vote")["mae"].item()
    overall = overall.with_columns((pl.col("mae") / majority_mae).alias("mae / majority vote"))
    if "mae_median" in overall.columns:
        overall = overall.with_columns((pl.col("mae_median") / majority_mae).alias("median's mae / majority vote"))
    true_zero_share = results.filter(pl.col("estimator") == "majority vote").select((pl.col("true_count") == 0).mean()).item()
    print(f"### Overall (share of sampled companies with no expert: {true_zero_share:.2f})\n")
    print(markdown(overall.drop("median_width80_share")))
    print("\n### By true-prevalence band\n")
    print(markdown(summarise(results, ["estimator", "prevalence_band"]).drop("median_width80_share", "mae_share")))
    per_seed = summarise(results, ["estimator", "replication"]).select("estimator", "replication", "coverage80",
                                                                        "coverage90", "pit_coverage80", "mae")
    print("\n### Per seed\n")
    print(markdown(per_seed))


if __name__ == "__main__":
    main()
