"""Annotator parameters: sensitivity/specificity with Wilson intervals, tetrachoric correlations."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.stats import multivariate_normal

from workforce_assets.headcount.parameters import (
    annotator_parameters,
    bivariate_normal_cdf,
    nearest_correlation,
    tetrachoric_correlations,
)


def _rated() -> pl.DataFrame:
    return pl.DataFrame({
        "item_id": [f"r{i}" for i in range(8)],
        "is_ml_expert": pl.Series([1, 1, 1, 1, 0, 0, 0, 0], dtype=pl.Int8),
        "llm_gemini-2.5-flash": pl.Series([1, 1, 0, None, 0, 0, 1, 0], dtype=pl.Int8),
        "filter_broad_yes": pl.Series([1, 0, 0, 0, 0, 0, 0, None], dtype=pl.Int8),
    })


def test_sensitivity_specificity_and_wilson_intervals_by_canonical_name():
    table = annotator_parameters(_rated(), ["filter_broad_yes", "llm_gemini_2_5_flash"], confidence=0.8)
    assert table.get_column("annotator").to_list() == ["filter_broad_yes", "llm_gemini_2_5_flash"]
    gemini = table.row(1, named=True)
    assert (gemini["n_pos"], gemini["n_neg"], gemini["n_missing"]) == (3, 4, 1)
    assert gemini["sensitivity"] == pytest.approx(2 / 3)
    assert gemini["specificity"] == pytest.approx(3 / 4)
    wilson = stats.binomtest(2, 3).proportion_ci(confidence_level=0.8, method="wilson")
    assert (gemini["sensitivity_lower"], gemini["sensitivity_upper"]) == pytest.approx((wilson.low, wilson.high))
    broad = table.row(0, named=True)
    assert (broad["n_pos"], broad["n_neg"], broad["n_missing"]) == (4, 3, 1)
    assert broad["sensitivity"] == pytest.approx(0.25) and broad["specificity"] == pytest.approx(1.0)


def test_unknown_annotator_and_bad_labels_are_errors():
    with pytest.raises(ValueError, match="no column for annotator"):
        annotator_parameters(_rated(), ["llm_sonnet_4"])
    bad = _rated().with_columns(pl.Series("filter_broad_yes", [1, 0, 2, 0, 0, 0, 0, 0], dtype=pl.Int8))
    with pytest.raises(ValueError, match="other than 0/1"):
        annotator_parameters(bad, ["filter_broad_yes"])


def test_vectorised_bivariate_normal_cdf_matches_scipy():
    rng = np.random.default_rng(3)
    for _ in range(20):
        h, k = rng.normal(size=2) * 1.5
        rho = rng.uniform(-0.98, 0.98)
        expected = multivariate_normal.cdf([h, k], cov=[[1, rho], [rho, 1]])
        assert bivariate_normal_cdf(h, k, rho) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_tetrachoric_recovers_known_correlations():
    rng = np.random.default_rng(0)
    truth = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, -0.3], [0.2, -0.3, 1.0]])
    mean = np.array([-0.5, 0.3, 0.0])
    latent = rng.multivariate_normal(mean, truth, size=40_000)
    labels = (latent > 0).astype(np.int8)
    patterns, counts = np.unique(labels, axis=0, return_counts=True)
    estimate = tetrachoric_correlations(patterns, counts.astype(float), mean, cell_prior=0.0)
    assert np.abs(estimate - truth).max() < 0.04


def test_nearest_correlation_repairs_and_shrinks():
    broken = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    repaired = nearest_correlation(broken, shrinkage=0.0)
    assert np.linalg.eigvalsh(repaired).min() > 0
    assert np.allclose(np.diag(repaired), 1.0)
    shrunk = nearest_correlation(broken, shrinkage=0.5)
    assert np.abs(shrunk[0, 1]) < np.abs(repaired[0, 1])
