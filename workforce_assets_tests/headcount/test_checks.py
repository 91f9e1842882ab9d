"""The pure asset checks catch what they are meant to catch."""

from __future__ import annotations

import numpy as np
import polars as pl

from workforce_assets.headcount.checks import annotator_subset_violations, company_posterior_violations
from workforce_assets.headcount.posterior import estimate_company_headcounts
from workforce_assets.headcount.simulation import independent_world


def test_real_output_passes_and_broken_output_fails():
    world = independent_world(np.random.default_rng(3), [0.7, 0.6], [0.9, 0.85], n_rated=200, n_companies=10,
                              headcount_range=(50, 2_000), max_sampled=50)
    summary = estimate_company_headcounts(world.rated, world.samples, world.companies, world.annotators,
                                          n_draws=50, method="independent", fit="supervised", n_bootstrap=5).summary
    assert company_posterior_violations(summary) == []
    broken = summary.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.col("headcount") + 1).otherwise(pl.col("q95")).alias("q95"),
        pl.when(pl.int_range(pl.len()) == 1).then(1.5).otherwise(pl.col("p_at_least_one")).alias("p_at_least_one"),
        pl.when(pl.int_range(pl.len()) == 2).then(pl.col("q90") + 1e9).otherwise(pl.col("q50")).alias("q50"),
    )
    problems = " ".join(company_posterior_violations(broken))
    assert "p_at_least_one outside" in problems and "q50 > q90" in problems and "q95 outside" in problems


def test_annotator_subset_by_canonical_name():
    assert annotator_subset_violations(["llm_gemini-2.5-flash"], ["llm_gemini_2_5_flash", "x"]) == []
    assert annotator_subset_violations(["llm_sonnet_4", "x"], ["x"]) == ["annotators without parameters: ['llm_sonnet_4']"]
