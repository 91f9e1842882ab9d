"""The default headcount estimator on the real 12-lab set (prints markdown for docs/validation.md).

comparator_ml_employee_annotations.csv (11,205 profiles of 12 labs) and comparator_ml_companies.csv (18
companies; 6 without a sample) with the 585 rated CVs: which annotators the transport check excluded and
why, each company's estimate with the default policy and with every annotator, totals with the extrapolated
part apart, and how far q10 / q50 / q90 move between seeds (Monte Carlo error).

    .venv/bin/python benchmarks/headcount_real_labs.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import polars as pl

from workforce_assets.headcount.model import HeadcountModel
from workforce_assets.headcount.posterior import totals_by_part
from markdown_table import markdown  # benchmarks/markdown_table.py (the script's folder is on sys.path)

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "annotations"
ANNOTATORS = ["llm_gemini_2_5_flash", "llm_sonnet_4", "llm_gpt_5_mini",
              "filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"]


def main() -> None:
    rated = pl.read_csv(DATA / "validation_annotations.csv")
    samples = pl.read_csv(DATA / "comparator_ml_employee_annotations.csv")
    companies = pl.read_csv(DATA / "comparator_ml_companies.csv")
    started = time.perf_counter()
    model = HeadcountModel().fit(rated, samples, companies, annotators=ANNOTATORS, seed=0)
    estimate = model.sample(1000, seed=0)
    seconds = time.perf_counter() - started
    options = model.options_
    print(f"{samples.height:,} profiles, {companies.height} companies; default HeadcountModel "
          f"({options.method}/{options.fit}/{options.prior}, parameter uncertainty: {model.parameter_uncertainty_}, "
          f"prior penalty {model.penalty_}): {seconds:.1f} s including the with-every-annotator comparison\n")
    print("#### Annotator transport (headcount.annotator_transport)\n")
    print(markdown(model.transport_.select(
        "annotator", "excluded", "profile_positive_rate", "rated_false_positive_rate", "rated_sensitivity",
        "predicted_positive_rate", "agreement_z", "n_companies_outside_range", "reason")))
    print(f"\nexcluded: {model.excluded_annotators_}; used: {model.annotators_}\n")
    print("#### Sampled labs: default policy against every annotator (headcount.transport_comparison)\n")
    print(markdown(model.comparison_.filter(pl.col("n_sampled") > 0).sort("company_id")))
    print("\n#### Every company, default policy (headcount.joint_estimate)\n")
    print(markdown(estimate.summary.drop("method", "sd", "q05", "q95").with_columns(pl.col("ml_share").round(4))))
    print("\n#### Totals from summed draws (default 'all' leaves the extrapolated companies out)\n")
    print(markdown(totals_by_part(estimate.summary, estimate.draws).drop("sd")))

    print("\n#### Monte Carlo error: seeds 1, 2, 3 (companies with >= 100 sampled employees)\n")
    runs = []
    for seed in (1, 2, 3):
        fitted = HeadcountModel(predictive_replicates=0, compare_excluded=False).fit(
            rated, samples, companies, annotators=ANNOTATORS, seed=seed)
        runs.append(fitted.sample(1000, seed=seed).summary.filter(pl.col("n_sampled") >= 100).sort("company_id"))
    rows = []
    for a, b in ((0, 1), (0, 2), (1, 2)):
        tolerance = np.maximum(0.02 * runs[a]["q50"].to_numpy(), 2.0)
        for column in ("q10", "q50", "q90"):
            moved = np.abs(runs[a][column].to_numpy() - runs[b][column].to_numpy())
            rows.append({"seeds": f"{a + 1} vs {b + 1}", "quantile": column, "max move (experts)": float(moved.max()),
                         "max move / max(2% of median, 2)": float((moved / tolerance).max()),
                         "companies": runs[a].height})
    print(markdown(pl.DataFrame(rows)))


if __name__ == "__main__":
    main()
