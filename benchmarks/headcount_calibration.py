"""Plasmode calibration of company ML-expert count posteriors (prints markdown tables for the docs).

The real rated CVs (../shared/data/annotations/validation_annotations.csv) are split in half in every
replication: one half is given to the estimators as rated items, the other only makes the employees'
annotation patterns (resampled by true class). 400 companies per replication (default design in
workforce_assets.headcount.calibration.DEFAULT_DESIGN).

    .venv/bin/python benchmarks/headcount_calibration.py                       # 10 replications, all estimators
    .venv/bin/python benchmarks/headcount_calibration.py --replications 3 --quick
    .venv/bin/python benchmarks/headcount_calibration.py --figures docs/figures  # also the coverage plot
    # the issue-9 targets: the default estimator on three prevalence distributions, and shifted filters
    .venv/bin/python benchmarks/headcount_calibration.py --estimators default --prevalence log_uniform
    .venv/bin/python benchmarks/headcount_calibration.py --estimators default --shift filter_broad_yes=0.8 \
        --shift filter_strict_no=0.8 --shift filter_broad_yes_strict_no=0.8
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.calibration import DEFAULT_DESIGN, ORACLE, ORACLE_SOUND, run_replication, summarise, total_summary
from estimator_options import add_option_argument, apply_options
from markdown_table import markdown  # benchmarks/markdown_table.py (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "annotations" / "validation_annotations.csv"

ESTIMATORS = {
    "saturated, semi-supervised (default)": {"method": "saturated", "fit": "semi_supervised"},
    "saturated, supervised": {"method": "saturated", "fit": "supervised"},
    "log-linear, semi-supervised": {"method": "loglinear", "fit": "semi_supervised"},
    "log-linear, supervised": {"method": "loglinear", "fit": "supervised"},
    "probit, supervised": {"method": "probit", "fit": "supervised"},
    "independent (Dawid-Skene), semi-supervised": {"method": "independent", "fit": "semi_supervised"},
}
QUICK = ["saturated, semi-supervised (default)", "saturated, supervised"]
DEFAULT = "default (HeadcountModel())"
#: the EM run to convergence, with and without a zero atom in its E-step prior (docs/validation.md, section 7)
CONVERGED = {
    DEFAULT: {},
    "EM converged": {"em_tolerance": 1e-7, "em_iterations": 3000, "replicate_em_iterations": 300},
    "EM converged, zero atom": {"em_tolerance": 1e-7, "em_iterations": 3000, "replicate_em_iterations": 300,
                                "em_zero_atom": True},
    "EM converged, log-spline E-step": {"em_tolerance": 1e-7, "em_iterations": 3000, "replicate_em_iterations": 300,
                                        "em_prior": "log_spline"},
    "EM converged, log-spline E-step, zero atom": {"em_tolerance": 1e-7, "em_iterations": 3000,
                                                   "replicate_em_iterations": 300, "em_prior": "log_spline",
                                                   "em_zero_atom": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--companies", type=int, default=400)
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="only the saturated estimators")
    parser.add_argument("--zero-share", type=float, default=DEFAULT_DESIGN["zero_share"],
                        help="share of companies with no expert (default %(default)s)")
    parser.add_argument("--estimators", choices=["all", "quick", "default", "converged"], default="all",
                        help="default: only HeadcountModel with its default options (+ baselines and oracle); "
                             "converged: the default and the EM run to convergence (Beta or log-spline E-step prior, with and "
                             "without a zero atom)")
    parser.add_argument("--prevalence", choices=["beta", "log_uniform", "two_point"], default="beta",
                        help="distribution of the non-zero prevalences (worlds that break the Beta prior's shape)")
    parser.add_argument("--shift", action="append", default=[], metavar="ANNOTATOR=Q",
                        help="on profiles, each yes of ANNOTATOR becomes a no with probability Q (repeatable)")
    add_option_argument(parser)
    parser.add_argument("--save", type=Path, help="write the per-company results (parquet)")
    parser.add_argument("--figures", type=Path, help="directory for the coverage-by-level figure (HTML)")
    parser.add_argument("--from-results", type=Path, help="re-print the tables of a saved run (parquet)")
    args = parser.parse_args()
    if args.from_results:
        report(pl.read_parquet(args.from_results), list(ESTIMATORS), args.figures)
        return

    source = pl.read_csv(DATA).drop("cv_text")
    source = source.rename({c: canonical_annotator_name(c) for c in source.columns if c not in ("cv_id", "is_ml_expert")})
    annotators = [c for c in source.columns if c not in ("cv_id", "is_ml_expert")]
    if args.estimators == "default":
        estimators = {DEFAULT: {}}
    elif args.estimators == "converged":
        estimators = dict(CONVERGED)
    else:
        estimators = {k: v for k, v in ESTIMATORS.items() if not (args.quick or args.estimators == "quick") or k in QUICK}
    estimators = apply_options(estimators, args.option)
    design = {**DEFAULT_DESIGN, "zero_share": args.zero_share, "prevalence_distribution": args.prevalence}
    shift = {name: float(q) for name, q in (item.split("=") for item in args.shift)} or None
    started = time.perf_counter()
    results = pl.concat([
        run_replication(source, annotators, r, estimators, n_companies=args.companies, n_draws=args.draws,
                        company_options=design, oracle=True, profile_shift=shift)
        for r in range(args.replications)
    ], how="diagonal_relaxed")
    elapsed = time.perf_counter() - started
    if args.save:
        results.write_parquet(args.save)
    print(f"{args.replications} replications x {args.companies} companies, {args.draws} draws, "
          f"zero-expert share {args.zero_share}, prevalence {args.prevalence}, shift {shift}; {elapsed:.0f} s\n")
    report(results, list(estimators), args.figures)
    targets(results, list(estimators), shift)


def targets(results: pl.DataFrame, estimators: list[str], shift: dict | None) -> None:
    """The issue's targets per estimator: PIT 80% coverage overall and per prevalence band (bands with >= 50
    companies), equal-tailed q10-q90 coverage per band, MAE / majority vote (of the posterior mean, and of its
    median, the table's q50), and (with ``shift``) how often each
    annotator was excluded."""
    majority = summarise(results.filter(pl.col("estimator") == "majority vote"), ["estimator"])["mae"].item()
    rows = []
    for name in estimators + [ORACLE, ORACLE_SOUND]:
        mine = results.filter(pl.col("estimator") == name)
        if mine.is_empty():
            continue
        overall = summarise(mine, ["estimator"]).row(0, named=True)
        bands = summarise(mine, ["prevalence_band"]).filter(pl.col("n") >= 50)
        row = {"estimator": name, "pit_coverage80": overall["pit_coverage80"],
               "min band pit_coverage80": bands["pit_coverage80"].min(),
               "min band coverage80": bands["coverage80"].min(), "mae / majority vote": overall["mae"] / majority,
               "median's mae / majority vote": overall.get("mae_median", float("nan")) / majority}
        if shift is not None and "excluded_annotators" in mine.columns:
            per_rep = mine.group_by("replication").agg(pl.col("excluded_annotators").first())
            for annotator in sorted({a for v in per_rep["excluded_annotators"].to_list() for a in (v or "").split(",") if a}
                                    | set(shift)):
                row[f"excluded {annotator}"] = float(per_rep["excluded_annotators"].map_elements(
                    lambda v, a=annotator: a in (v or "").split(","), return_dtype=pl.Boolean).mean())
        rows.append(row)
    print("\n### Targets (issue 9)\n")
    print(markdown(pl.DataFrame(rows)))


def report(results: pl.DataFrame, estimators: list[str], figures: Path | None = None) -> None:
    """Markdown tables: overall, portfolio totals, and by size / prevalence / sample-size band."""
    seconds = results.group_by("estimator", maintain_order=True).agg(pl.col("seconds").unique().mean().alias("seconds per replication"))
    overall = summarise(results, ["estimator"]).join(seconds, on="estimator")
    majority_mae = overall.filter(pl.col("estimator") == "majority vote")["mae"].item()
    overall = overall.with_columns((pl.col("mae") / majority_mae).alias("mae / majority vote"))
    if "mae_median" in overall.columns:
        overall = overall.with_columns((pl.col("mae_median") / majority_mae).alias("median's mae / majority vote"))
    print("### Overall\n")
    print(markdown(overall))
    print("\n### Portfolio total (all companies of a replication, from summed draws)\n")
    print(markdown(total_summary(results)))
    main_estimators = [name for name in estimators if name in QUICK] + [ORACLE, ORACLE_SOUND, "majority vote"]
    for band in ("size_band", "prevalence_band", "sample_band"):
        print(f"\n### By {band.replace('_', ' ')}\n")
        table = summarise(results.filter(pl.col("estimator").is_in(main_estimators)), ["estimator", band])
        print(markdown(table.drop("coverage50", "median_width80_share")))
    if figures:
        from workforce_assets.headcount.plots import coverage_by_level_figure

        figures.mkdir(parents=True, exist_ok=True)
        coverage_by_level_figure(results).write_html(figures / "headcount_coverage_by_level.html",
                                                     include_plotlyjs="cdn")
        print(f"\nfigure: {figures / 'headcount_coverage_by_level.html'}")


if __name__ == "__main__":
    main()
