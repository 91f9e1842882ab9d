"""Pure checks behind the headcount asset checks: each returns a list of violations (empty = passed)."""

from __future__ import annotations

import polars as pl

from workforce_assets.annotation.names import canonical_annotator_name

PROBABILITY_COLUMNS = ("p_at_least_one", "ml_share")
QUANTILE_ORDER = ("q05", "q10", "q50", "q90", "q95")


def company_posterior_violations(summary: pl.DataFrame) -> list[str]:
    """Probabilities in [0, 1]; q05 <= q10 <= q50 <= q90 <= q95; 0 <= every count summary <= headcount."""
    problems = []
    for column in PROBABILITY_COLUMNS:
        bad = summary.filter(pl.col(column).is_not_null() & ~pl.col(column).is_between(0.0, 1.0))
        if bad.height:
            problems.append(f"{column} outside [0, 1] for {bad['company_id'].head(10).to_list()}")
    for lower, upper in zip(QUANTILE_ORDER, QUANTILE_ORDER[1:]):
        bad = summary.filter(pl.col(lower) > pl.col(upper))
        if bad.height:
            problems.append(f"{lower} > {upper} for {bad['company_id'].head(10).to_list()}")
    for column in ("mean", *QUANTILE_ORDER):
        bad = summary.filter((pl.col(column) < 0) | (pl.col(column) > pl.col("headcount")))
        if bad.height:
            problems.append(f"{column} outside [0, headcount] for {bad['company_id'].head(10).to_list()}")
    bad = summary.filter(pl.col("n_sampled") > pl.col("headcount"))
    if bad.height:
        problems.append(f"n_sampled > headcount for {bad['company_id'].head(10).to_list()}")
    return problems


def annotator_subset_violations(profile_annotators: list[str], parameter_annotators: list[str]) -> list[str]:
    """The annotators used on profiles must all have parameters, compared by canonical name."""
    known = {canonical_annotator_name(a) for a in parameter_annotators}
    missing = sorted({canonical_annotator_name(a) for a in profile_annotators} - known)
    return [f"annotators without parameters: {missing}"] if missing else []
