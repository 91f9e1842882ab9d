"""The plasmode calibration harness at small size: intervals cover, the posterior beats the baselines."""

from __future__ import annotations

import polars as pl
import pytest

from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.calibration import run_replication, summarise


@pytest.fixture(scope="module")
def results(shared_data):
    source = pl.read_csv(shared_data / "annotations" / "validation_annotations.csv").drop("cv_text")
    source = source.rename({c: canonical_annotator_name(c) for c in source.columns if c not in ("cv_id", "is_ml_expert")})
    annotators = [c for c in source.columns if c not in ("cv_id", "is_ml_expert")]
    estimators = {"semi": {"method": "saturated", "fit": "semi_supervised", "n_bootstrap": 10},
                  "supervised": {"method": "saturated", "fit": "supervised", "n_bootstrap": 10}}
    return pl.concat([run_replication(source, annotators, r, estimators, n_companies=150, n_draws=200)
                      for r in range(2)], how="diagonal_relaxed")


def test_intervals_cover_and_posterior_mean_beats_majority_vote(results):
    overall = {row["estimator"]: row for row in summarise(results, ["estimator"]).iter_rows(named=True)}
    semi = overall["semi"]
    assert 0.72 <= semi["coverage80"] <= 0.95
    assert semi["coverage50"] < semi["coverage80"] < semi["coverage90"]
    assert 0.70 <= semi["pit_coverage80"] <= 0.90
    assert semi["mae"] < 0.8 * overall["majority vote"]["mae"]
    assert semi["mae"] < overall["Dawid-Skene (point)"]["mae"]


def test_semi_supervised_fit_does_not_invent_experts_at_companies_without_any(results):
    """The supervised-only fit puts a few percent ML share on zero-expert companies; the joint fit must not."""
    zero = results.filter(pl.col("true_count") == 0).group_by("estimator").agg(
        (pl.col("mean") / pl.col("headcount")).mean().alias("share"))
    share = dict(zero.iter_rows())
    assert share["semi"] < 0.01
    assert share["semi"] < share["supervised"]
    assert share["majority vote"] > 0.02
