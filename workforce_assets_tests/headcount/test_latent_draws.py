"""The latent-label sampler of the posterior draws is exactly binomial, whichever path a cell takes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from workforce_assets.headcount.posterior import _binomial_by_count


@pytest.mark.parametrize("n, p", [(1, 0.3), (2, 0.9), (3, 0.05), (5, 0.5), (8, 0.97), (9, 0.2), (40, 0.01),
                                  (4, 0.0), (6, 1.0)])
def test_draws_follow_the_binomial_distribution(n, p):
    rng = np.random.default_rng(n)
    m = 100_000
    counts = np.array([0, n, n])  # a zero-count cell next to two of this size
    draws = _binomial_by_count(counts, np.full((3, m), p), rng)
    assert (draws[0] == 0).all()
    for row in draws[1:]:
        observed = np.bincount(row, minlength=n + 1)
        expected = stats.binom.pmf(np.arange(n + 1), n, p) * m
        assert observed[expected == 0].sum() == 0  # impossible counts never drawn
        keep = expected > 5
        if keep.sum() > 1:
            chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
            assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4, (n, p, observed, expected)
        assert abs(row.mean() - n * p) < 5 * np.sqrt(n * p * (1 - p) / m) + 1e-12


def test_each_draw_uses_its_own_probability():
    rng = np.random.default_rng(0)
    p = np.tile(np.array([0.0, 1.0, 0.5]), (4, 1000))[:, :3000]
    counts = np.array([1, 3, 8, 20])
    draws = _binomial_by_count(counts, p, rng)
    assert (draws[:, 0::3] == 0).all() and (draws[:, 1::3] == counts[:, None]).all()
    assert np.allclose(draws[:, 2::3].mean(axis=1), counts * 0.5, atol=0.3)


def test_dirichlet_parameter_draws_never_give_a_pattern_zero_probability_in_both_classes():
    """Vectors the rated CVs never show get Dirichlet shapes ~1e-5; numpy's dirichlet returned exact zeros
    there, and a profile pattern made of them had log-likelihood -inf under both classes (NaN posteriors)."""
    from workforce_assets.headcount.annotator_models import _full_states, dirichlet_parameter_draws

    rng = np.random.default_rng(0)
    m = 6
    patterns = _full_states(m)  # every full vector is a pattern; the rated CVs show only four of them
    rated = np.zeros((patterns.shape[0], 2))
    rated[0, 0], rated[1, 0], rated[-1, 1], rated[-2, 1] = 120, 30, 60, 20
    log_lik = dirichlet_parameter_draws(patterns, rated, "loglinear", 500, rng)
    assert np.isfinite(log_lik).all()
    probability = np.exp(log_lik).sum(axis=1)  # the full vectors partition the space: sums to one per class
    assert np.allclose(probability, 1.0)
    # the observed vectors dominate, as the counts say
    assert np.exp(log_lik[:, 0, 0]).mean() > 0.5 and np.exp(log_lik[:, -1, 1]).mean() > 0.5
