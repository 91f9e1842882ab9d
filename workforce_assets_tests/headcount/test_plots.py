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


def test_company_estimates_use_a_log_axis_and_mention_grey_only_when_drawn():
    """Issue 13: the title promised grey markers that were never drawn, and a linear axis piled 35 of 57
    companies at 0."""
    from workforce_assets.headcount.plots import ZERO_ON_LOG_AXIS, annotator_figure, company_estimates_figure

    summary = pl.DataFrame({"company_id": ["a", "b", "c"], "mean": [0.0, 3.0, 900.0], "q05": [0.0, 1.0, 700.0],
                            "q10": [0.0, 1.0, 750.0], "q90": [1.0, 6.0, 1000.0], "q95": [2.0, 8.0, 1100.0],
                            "prior_only": [False, False, False], "n_sampled": [10, 10, 10],
                            "headcount": [100, 100, 5000]})
    figure = company_estimates_figure(summary)
    assert figure.layout.xaxis.type == "log" and "grey" not in figure.layout.title.text
    assert min(figure.data[1].x) == ZERO_ON_LOG_AXIS  # a zero is drawn, at the stated place
    with_prior_only = company_estimates_figure(summary.with_columns(prior_only=pl.Series([False, True, False])))
    assert "grey" in with_prior_only.layout.title.text
    parameters = pl.DataFrame({"annotator": ["x", "y"], "sensitivity": [0.97, 0.5], "specificity": [0.9, 0.6],
                               **{f"{m}_{b}": [0.4, 0.4] if b == "lower" else [0.99, 0.7]
                                  for m in ("sensitivity", "specificity") for b in ("lower", "upper")}})
    annotators = annotator_figure(parameters)
    assert list(annotators.data[0].textposition) == ["bottom center", "top center"]  # no label above the top
    assert annotators.layout.yaxis.range[1] > 1.05
