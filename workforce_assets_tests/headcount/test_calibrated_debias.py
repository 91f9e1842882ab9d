"""Rogan-Gladen corrected consensus: covers in simulation where the original log-debias does not."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workforce_assets.headcount.calibrated_debias import rogan_gladen_consensus
from workforce_assets.headcount.log_debias import log_debias, method_counts_from_samples
from workforce_assets.headcount.simulation import independent_world

SENS = [0.71, 0.59, 0.72, 0.56, 0.41, 0.30]
SPEC = [0.83, 0.975, 0.87, 0.91, 0.89, 0.98]


def _coverage(table: pl.DataFrame, truth: pl.DataFrame) -> float:
    joined = table.join(truth, on="company_id")
    return float(((joined["lower80"] <= joined["true_count"]) & (joined["true_count"] <= joined["upper80"])).mean())


def test_rogan_gladen_interval_covers_in_simulation():
    coverage, original = [], []
    for seed in range(3):
        world = independent_world(np.random.default_rng(seed), SENS, SPEC, n_rated=585, rated_prevalence=0.26,
                                  n_companies=200, headcount_range=(20, 200_000), sample_size_range=(10, 2_000),
                                  zero_share=0.25, prevalence_beta=(0.7, 3.0))
        counts = world.samples.group_by("company_id").agg(
            pl.len().alias("n"), *[pl.col(a).sum() for a in world.annotators]).join(world.companies, on="company_id")
        table = rogan_gladen_consensus(counts, world.rated, {a: a for a in world.annotators},
                                       populations={a: "n" for a in world.annotators}, n_draws=400, seed=seed)
        truth = world.truth.select("company_id", "true_count")
        coverage.append(_coverage(table, truth))
        implied = method_counts_from_samples(world.samples, world.companies, world.annotators)
        original.append(_coverage(log_debias(implied, world.annotators[3:], world.annotators[:3]), truth))
    assert 0.70 <= np.mean(coverage) <= 0.90, coverage
    assert np.mean(original) < np.mean(coverage) - 0.2, original


def test_whole_company_counts_and_bad_methods():
    rated = pl.DataFrame({"is_ml_expert": [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
                          "good": [1, 1, 1, 0, 0, 0, 0, 0, 0, 1], "coin": [1, 0, 1, 0, 1, 0, 1, 0, 1, 1]})
    counts = pl.DataFrame({"company_id": ["a", "b"], "headcount": [1_000, 50], "good": [300, None]})
    table = rogan_gladen_consensus(counts, rated, {"good": "good"}, n_draws=200)
    assert table["n_methods"].to_list() == [1, 0]
    assert table["invalid_methods"].to_list() == [None, None]
    over = rogan_gladen_consensus(counts.with_columns(pl.lit(2_000).alias("good")), rated, {"good": "good"}, n_draws=50)
    assert over["invalid_methods"].to_list() == ["good", "good"] and over["n_methods"].to_list() == [0, 0]
    assert table.row(1, named=True)["estimate"] is None  # kept, not dropped
    first = table.row(0, named=True)
    assert 0 <= first["lower80"] < first["estimate"] < first["upper80"] <= 1_000
    with pytest.raises(ValueError, match="no better than chance"):
        rogan_gladen_consensus(counts.with_columns(pl.col("good").alias("coin")), rated, {"coin": "coin"}, n_draws=50)
