"""The zero-inflated Beta prior fitted across companies, and sampling from grid posteriors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from workforce_assets.headcount.prevalence import (
    PrevalenceGrid,
    ZeroInflatedBeta,
    fit_zero_inflated_beta,
    grid_posterior,
    posterior_cdf,
    sample_prevalence,
)


def _zero_inflated_companies(seed: int, n_companies: int):
    """Companies with 30% zero prevalence and Beta(0.7, 4) otherwise; their binomial log-likelihood on a grid."""
    rng = np.random.default_rng(seed)
    prevalence = np.where(rng.random(n_companies) < 0.3, 0.0, rng.beta(0.7, 4.0, n_companies))
    n = rng.integers(20, 400, n_companies)
    experts = rng.binomial(n, prevalence)
    grid = PrevalenceGrid.default(linear_step=0.01, geometric_cells=20)
    return rng, grid, stats.binom.logpmf(experts[:, None], n[:, None], grid.values[None, :])


def test_empirical_bayes_recovers_a_zero_inflated_beta():
    _, grid, log_lik = _zero_inflated_companies(0, 3_000)
    for start in (None, ZeroInflatedBeta(0.001, 2.0, 2.0)):
        fitted = fit_zero_inflated_beta(log_lik, grid, start=start)
        assert fitted.zero_weight == pytest.approx(0.3, abs=0.04)
        assert fitted.mean() == pytest.approx(0.7 * 0.7 / 4.7, rel=0.1)


def test_prevalence_draws_follow_the_grid_posterior():
    grid = PrevalenceGrid.default()
    rng = np.random.default_rng(1)
    log_lik = np.vstack([stats.binom.logpmf(3, 50, grid.values), np.zeros(grid.size)])
    prior = ZeroInflatedBeta(0.4, 0.8, 5.0)
    posterior = grid_posterior(log_lik, prior, grid)
    draws = sample_prevalence(posterior_cdf(posterior), grid, 20_000, rng)
    expected_mean = posterior @ grid.values
    assert draws.mean(axis=1) == pytest.approx(expected_mean, rel=0.03)
    # the company without data keeps the prior, zero atom included
    assert (draws[1] == 0).mean() == pytest.approx(0.4, abs=0.015)
    assert (draws[0] == 0).mean() == 0.0  # three observed experts rule out prevalence zero


def test_company_weights_act_as_duplicated_companies_and_zero_atom_can_be_switched_off():
    n_companies = 400
    rng, grid, log_lik = _zero_inflated_companies(3, n_companies)
    weights = rng.integers(0, 3, n_companies)
    weighted = fit_zero_inflated_beta(log_lik, grid, company_weights=weights)
    duplicated = fit_zero_inflated_beta(np.repeat(log_lik, weights, axis=0), grid)
    assert weighted.zero_weight == pytest.approx(duplicated.zero_weight, abs=0.01)
    assert weighted.mean() == pytest.approx(duplicated.mean(), rel=0.02)
    without_atom = fit_zero_inflated_beta(log_lik, grid, zero_atom=False)
    assert without_atom.zero_weight == 0.0
    # the Beta alone must then put the zero-expert companies near zero: a small first shape parameter
    assert without_atom.alpha < fit_zero_inflated_beta(log_lik, grid).alpha
