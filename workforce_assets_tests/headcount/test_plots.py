"""Figures are written as HTML for the asset metadata."""

from __future__ import annotations

import numpy as np
import polars as pl

from workforce_assets.headcount.parameters import annotator_parameters
from workforce_assets.headcount.plots import write_figures
from workforce_assets.headcount.posterior import estimate_company_headcounts
from workforce_assets.headcount.simulation import independent_world


def test_write_figures(tmp_path):
    world = independent_world(np.random.default_rng(0), [0.7, 0.6, 0.8], [0.9, 0.85, 0.95], n_rated=200,
                              n_companies=15, headcount_range=(50, 5_000), max_sampled=100)
    estimate = estimate_company_headcounts(world.rated, world.samples, world.companies, world.annotators,
                                           n_draws=100, method="independent", fit="supervised", n_bootstrap=5)
    calibration = estimate.summary.join(world.truth.select("company_id", "true_count"), on="company_id").select(
        pl.lit("posterior").alias("estimator"), "true_count",
        *[pl.col(q).alias(name) for q, name in (("q05", "lower90"), ("q95", "upper90"), ("q10", "lower80"),
                                                ("q90", "upper80"), ("q10", "lower50"), ("q90", "upper50"))])
    paths = write_figures(tmp_path, summary=estimate.summary,
                          parameters=annotator_parameters(world.rated, world.annotators), calibration=calibration)
    assert set(paths) == {"company_estimates", "talent_landscape", "annotators", "coverage_by_level"}
    for path in paths.values():
        text = path.read_text()
        assert path.suffix == ".html" and "plotly" in text.lower()
    assert "c00003" in paths["company_estimates"].read_text()
    assert "annotator_1" in paths["annotators"].read_text()
