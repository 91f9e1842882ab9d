"""Pattern likelihoods: regressions for the original's defects (all-yes = P(all yes), no floors) and exactness."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.stats import multivariate_normal

from workforce_assets.headcount.annotator_models import (
    IndependentModel,
    LogLinearModel,
    ProbitModel,
    _full_states,
    orthant_log_probabilities,
)


def _equicorrelated_probability(signs: np.ndarray, mean: np.ndarray, rho: float) -> float:
    """P(sign_j * Z_j > 0 for all j), Z ~ N(mean, equicorrelation rho), by one-dimensional quadrature."""
    def integrand(x):
        return stats.norm.pdf(x) * np.prod(stats.norm.cdf(signs * (mean + np.sqrt(rho) * x) / np.sqrt(1 - rho)))
    return integrate.quad(integrand, -12, 12, epsabs=0, epsrel=1e-11, limit=400)[0]


def _equicorrelation(m: int, rho: float) -> np.ndarray:
    return rho * np.ones((m, m)) + (1 - rho) * np.eye(m)


def test_all_yes_pattern_is_probability_of_all_yes_not_at_least_one_yes():
    mean, rho = np.full(6, -1.0), 0.5
    log_p = orthant_log_probabilities(np.ones((1, 6), dtype=np.int8), mean, _equicorrelation(6, rho))
    all_yes = _equicorrelated_probability(np.ones(6), mean, rho)
    at_least_one = 1 - multivariate_normal.cdf(np.zeros(6), mean=mean, cov=_equicorrelation(6, rho))
    assert np.exp(log_p[0]) == pytest.approx(all_yes, rel=0.01)
    assert at_least_one > 10 * all_yes  # the original's 1 - CDF(0) is a different, much larger number


def test_rare_patterns_keep_relative_accuracy_without_floors():
    """A pattern of probability below 1e-11 (far below the original's 1/8192 QMC floor) is still right to 1%."""
    mean, rho = np.full(6, -4.0), 0.3
    log_p = orthant_log_probabilities(np.ones((1, 6), dtype=np.int8), mean, _equicorrelation(6, rho))
    exact = _equicorrelated_probability(np.ones(6), mean, rho)
    assert exact < 1e-11
    assert np.exp(log_p[0]) == pytest.approx(exact, rel=0.01)


def test_missing_annotators_are_marginalised():
    mean, rho = np.array([-0.5, 0.2, 0.4, -1.0]), 0.4
    corr = _equicorrelation(4, rho)
    patterns = np.array([[1, 1, -1, -1], [0, 0, 0, -1]], dtype=np.int8)
    log_p = orthant_log_probabilities(patterns, mean, corr, n_points=4096)
    assert np.exp(log_p[0]) == pytest.approx(_equicorrelated_probability(np.ones(2), mean[:2], rho), rel=0.005)
    assert np.exp(log_p[1]) == pytest.approx(_equicorrelated_probability(-np.ones(3), mean[:3], rho), rel=0.005)


def test_mixed_pattern_matches_scipy_mvn_cdf():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 5))
    cov = a @ a.T + 5 * np.eye(5)
    scale = np.sqrt(np.diag(cov))
    corr = cov / np.outer(scale, scale)
    mean = rng.normal(size=5) * 0.7
    pattern = np.array([[1, 0, 0, 1, 0]], dtype=np.int8)
    signs = np.where(pattern[0] == 1, 1.0, -1.0)
    expected = multivariate_normal.cdf(signs * mean, cov=corr * np.outer(signs, signs), abseps=0, releps=1e-6,
                                       maxpts=2_000_000, rng=0)
    assert np.exp(orthant_log_probabilities(pattern, mean, corr, n_points=4096)[0]) == pytest.approx(expected, rel=0.005)


def test_probability_of_every_full_pattern_sums_to_one_for_all_models():
    rng = np.random.default_rng(2)
    states = _full_states(4)
    truth = rng.integers(0, 2, 300)
    labels = (rng.random((300, 4)) < np.where(truth[:, None] == 1, 0.7, 0.2)).astype(np.int8)
    patterns = np.vstack([states, [[-1, -1, -1, -1]]]).astype(np.int8)
    weights = np.zeros((patterns.shape[0], 2))
    for row, k in zip(labels, truth):
        weights[int(np.flatnonzero((states == row).all(axis=1))[0]), k] += 1
    for model in (IndependentModel(), ProbitModel(n_points=2048), LogLinearModel()):
        log_lik = model.log_likelihood(patterns, weights)
        assert np.exp(log_lik[:16]).sum(axis=0) == pytest.approx([1.0, 1.0], abs=0.01), model.name
        assert np.exp(log_lik[16]) == pytest.approx([1.0, 1.0]), model.name


def test_rare_pattern_posterior_is_not_pinned_at_one():
    """The original floored tiny likelihoods to 1e-20, making P(expert | pattern) exactly 1."""
    mean_expert, mean_other, rho = np.full(6, -1.5), np.full(6, -3.2), 0.3
    pattern = np.ones((1, 6), dtype=np.int8)
    corr = _equicorrelation(6, rho)
    log_expert = orthant_log_probabilities(pattern, mean_expert, corr)[0]
    log_other = orthant_log_probabilities(pattern, mean_other, corr)[0]
    base_rate = 0.02
    posterior = 1 / (1 + (1 - base_rate) / base_rate * np.exp(log_other - log_expert))
    exact_ratio = _equicorrelated_probability(np.ones(6), mean_other, rho) / _equicorrelated_probability(np.ones(6), mean_expert, rho)
    exact = 1 / (1 + (1 - base_rate) / base_rate * exact_ratio)
    assert posterior < 1.0
    assert posterior == pytest.approx(exact, rel=0.01)


def test_saturated_model_is_the_base_model_with_few_items_and_free_with_many():
    from workforce_assets.headcount.annotator_models import SaturatedModel

    rng = np.random.default_rng(5)
    states = _full_states(3)
    patterns = np.vstack([states, [[1, -1, 0]]]).astype(np.int8)
    weights = np.zeros((patterns.shape[0], 2))
    weights[:8] = rng.integers(0, 30, size=(8, 2))
    free = SaturatedModel(concentration=1e-9).log_likelihood(patterns, weights)
    assert np.exp(free[:8]) == pytest.approx(weights[:8] / weights[:8].sum(axis=0), abs=1e-6)
    # the partially missing pattern is the sum of the full patterns it is consistent with
    consistent = (states[:, 0] == 1) & (states[:, 2] == 0)
    assert np.exp(free[8]) == pytest.approx(np.exp(free[:8][consistent]).sum(axis=0))
    base = LogLinearModel().log_likelihood(patterns, weights)
    shrunk = SaturatedModel(concentration=1e9).log_likelihood(patterns, weights)
    assert np.exp(shrunk) == pytest.approx(np.exp(base), abs=1e-6)


def test_saturated_model_marginalises_missing_labels_by_em():
    from workforce_assets.headcount.annotator_models import SaturatedModel

    rng = np.random.default_rng(6)
    truth = np.array([0.5, 0.1, 0.1, 0.3])  # over (0,0), (1,0), (0,1), (1,1)
    states = _full_states(2)
    full = states[rng.choice(4, size=20_000, p=truth)]
    hidden = rng.random(full.shape) < 0.3  # missing completely at random
    observed = np.where(hidden, -1, full).astype(np.int8)
    patterns, counts = np.unique(observed, axis=0, return_counts=True)
    weights = np.column_stack([counts, counts]).astype(float)
    log_lik = SaturatedModel(concentration=1e-6).log_likelihood(np.vstack([patterns, states]), np.vstack([weights, np.zeros((4, 2))]))
    assert np.exp(log_lik[-4:, 0]) == pytest.approx(truth, abs=0.015)
