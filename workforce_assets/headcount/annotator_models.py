"""Class-conditional annotator models: P(pattern | true class) for every distinct pattern.

Each model is fitted to *weighted distinct patterns* (weights = how many items of each class show the
pattern; fractional in EM, resampled in the bootstrap) and returns log P(pattern | class) for all patterns
at once, with missing annotators marginalised. Three models:

- ``IndependentModel``: annotators independent given the class (the Dawid-Skene model).
- ``ProbitModel``: class-conditional multivariate probit (latent N(mu_k, R_k), yes iff latent > 0) with
  tetrachoric correlations; orthant probabilities by GHK with randomised quasi-Monte-Carlo, in log space, so
  rare patterns keep their relative accuracy (no floors) and the all-yes pattern is P(all yes).
- ``LogLinearModel``: pairwise log-linear (Ising) model per class, exact by enumeration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special
from scipy.stats import qmc

from workforce_assets.headcount.parameters import nearest_correlation, tetrachoric_correlations
from workforce_assets.headcount.patterns import MISSING


def _yes_rates(patterns: np.ndarray, weights: np.ndarray, smoothing: float) -> np.ndarray:
    """Smoothed P(yes) per annotator from weighted patterns (Beta(smoothing, smoothing) prior)."""
    yes = (patterns == 1).astype(float)
    no = (patterns == 0).astype(float)
    n_yes = weights @ yes
    n_no = weights @ no
    return (n_yes + smoothing) / (n_yes + n_no + 2.0 * smoothing)


@dataclass
class IndependentModel:
    """Annotators independent given the true class (Dawid-Skene); Jeffreys-smoothed rates."""

    smoothing: float = 0.5
    name: str = "independent"
    last_rates: np.ndarray | None = field(default=None, repr=False)

    def log_likelihood(self, patterns: np.ndarray, class_weights: np.ndarray) -> np.ndarray:
        yes = (patterns == 1).astype(float)
        no = (patterns == 0).astype(float)
        out = np.empty((patterns.shape[0], 2))
        rates = []
        for k in (0, 1):
            rate = _yes_rates(patterns, class_weights[:, k], self.smoothing)
            rates.append(rate)
            out[:, k] = yes @ np.log(rate) + no @ np.log1p(-rate)
        self.last_rates = np.array(rates)
        return out


def orthant_log_probabilities(
    patterns: np.ndarray,
    mean: np.ndarray,
    corr: np.ndarray,
    n_points: int = 1024,
    seed: int = 0,
) -> np.ndarray:
    """log P(pattern) for Z ~ N(mean, corr), label yes iff Z > 0, missing annotators marginalised.

    GHK (Geweke-Hajivassiliou-Keane) with scrambled Sobol points: the probability is a product of
    conditional normal probabilities, each computed in log space, so a pattern of probability 1e-15 is
    estimated with the same relative precision as a common one. One Cholesky factor per set of observed
    annotators; all patterns sharing it are done together.
    """
    n_patterns, n_annotators = patterns.shape
    out = np.zeros(n_patterns)
    observed = patterns != MISSING
    masks, mask_index = np.unique(observed, axis=0, return_inverse=True)
    mask_index = mask_index.reshape(-1)
    uniforms = qmc.Sobol(d=max(n_annotators, 1), scramble=True, seed=seed).random(n_points)
    log_uniforms = np.log(uniforms)
    for group, mask in enumerate(masks):
        dims = np.flatnonzero(mask)
        rows_all = np.flatnonzero(mask_index == group)
        if dims.size == 0:
            continue
        chol = np.linalg.cholesky(corr[np.ix_(dims, dims)])
        chunk = max(1, 2_000_000 // (n_points * dims.size))
        for start in range(0, rows_all.size, chunk):
            rows = rows_all[start:start + chunk]
            signs = np.where(patterns[np.ix_(rows, dims)] == 1, 1.0, -1.0)  # (R, d)
            signed_draws = np.zeros((rows.size, n_points, dims.size))
            log_prob = np.zeros((rows.size, n_points))
            for i in range(dims.size):
                shift = signed_draws[:, :, :i] @ chol[i, :i]
                upper = signs[:, i:i + 1] * (mean[dims[i]] - shift) / chol[i, i]
                log_p = special.log_ndtr(upper)
                log_prob += log_p
                if i + 1 < dims.size:
                    draw = special.ndtri_exp(np.minimum(log_uniforms[:, i][None, :] + log_p, -1e-300))
                    signed_draws[:, :, i] = signs[:, i:i + 1] * draw
            out[rows] = special.logsumexp(log_prob, axis=1) - np.log(n_points)
    return out


@dataclass
class ProbitModel:
    """Class-conditional multivariate probit with tetrachoric correlations (the original's model, done right).

    shrinkage mixes each class's repaired correlation matrix with the identity; n_points is the number of
    QMC points per pattern in GHK.
    """

    shrinkage: float = 0.1
    smoothing: float = 0.5
    n_points: int = 1024
    seed: int = 0
    name: str = "probit"
    last_means: np.ndarray | None = field(default=None, repr=False)
    last_correlations: np.ndarray | None = field(default=None, repr=False)

    def fit_class(self, patterns: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = special.ndtri(_yes_rates(patterns, weights, self.smoothing))
        raw = tetrachoric_correlations(patterns, weights, mean)
        return mean, nearest_correlation(raw, self.shrinkage)

    def log_likelihood(self, patterns: np.ndarray, class_weights: np.ndarray) -> np.ndarray:
        out = np.empty((patterns.shape[0], 2))
        means, corrs = [], []
        for k in (0, 1):
            mean, corr = self.fit_class(patterns, class_weights[:, k])
            means.append(mean)
            corrs.append(corr)
            out[:, k] = orthant_log_probabilities(patterns, mean, corr, self.n_points, self.seed)
        self.last_means, self.last_correlations = np.array(means), np.array(corrs)
        return out


def _full_states(n_annotators: int) -> np.ndarray:
    codes = np.arange(2 ** n_annotators)
    return ((codes[:, None] >> np.arange(n_annotators)[None, :]) & 1).astype(np.int8)


@dataclass
class LogLinearModel:
    """Pairwise log-linear model per class: log P(x) = a.x + sum_{j<k} b_jk x_j x_k - log Z.

    Exact: Z and the marginals over missing annotators are sums over all 2^m label vectors (m <= 16).
    Fitted by penalised maximum likelihood (L2 ``penalty`` on pair terms, ``main_penalty`` on main effects).
    """

    penalty: float = 1.0
    main_penalty: float = 0.01
    name: str = "loglinear"
    max_annotators: int = 16
    last_parameters: np.ndarray | None = field(default=None, repr=False)

    def _design(self, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        n_annotators = patterns.shape[1]
        if n_annotators > self.max_annotators:
            raise ValueError(
                f"log-linear model enumerates 2^{n_annotators} label vectors; use the probit model above "
                f"{self.max_annotators} annotators"
            )
        states = _full_states(n_annotators).astype(float)
        rows, cols = np.triu_indices(n_annotators, 1)
        features = np.hstack([states, states[:, rows] * states[:, cols]])
        yes = (patterns == 1).astype(float)
        no = (patterns == 0).astype(float)
        consistent = (yes @ (1.0 - states).T + no @ states.T) == 0  # (n_patterns, 2^m)
        return features, consistent, n_annotators

    def _fit_class(self, features, consistent, weights, n_annotators, start):
        n_main = n_annotators
        penalty = np.r_[np.full(n_main, self.main_penalty), np.full(features.shape[1] - n_main, self.penalty)]
        used = weights > 0
        cons = consistent[used]
        w = weights[used]
        total = w.sum()

        scale = 1.0 / max(total, 1.0)  # per-item objective: the same optimum, tolerances that mean the same

        def objective(theta):
            energy = features @ theta
            log_z = special.logsumexp(energy)
            masked = np.where(cons, energy[None, :], -np.inf)
            log_num = special.logsumexp(masked, axis=1)
            value = -(w @ log_num - total * log_z) + 0.5 * np.sum(penalty * theta * theta)
            model_expectation = np.exp(energy - log_z) @ features
            within = np.exp(masked - log_num[:, None])
            data_expectation = w @ (within @ features)
            gradient = -(data_expectation - total * model_expectation) + penalty * theta
            return value * scale, gradient * scale

        result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B")
        return result.x

    def log_likelihood(self, patterns: np.ndarray, class_weights: np.ndarray) -> np.ndarray:
        features, consistent, n_annotators = self._design(patterns)
        out = np.empty((patterns.shape[0], 2))
        thetas = []
        for k in (0, 1):
            start = np.zeros(features.shape[1])
            if self.last_parameters is not None and self.last_parameters.shape == (2, features.shape[1]):
                start = self.last_parameters[k]
            theta = self._fit_class(features, consistent, class_weights[:, k], n_annotators, start)
            thetas.append(theta)
            energy = features @ theta
            log_z = special.logsumexp(energy)
            out[:, k] = special.logsumexp(np.where(consistent, energy[None, :], -np.inf), axis=1) - log_z
        self.last_parameters = np.array(thetas)
        return out


@dataclass
class SaturatedModel:
    """A free probability for every full label vector per class, shrunk towards a parametric base model.

    The prior is Dirichlet(concentration x base distribution): with few items the model is the base model
    (log-linear by default), with many it is free. Free matters in the semi-supervised fit: a mixture of
    two free pattern distributions is flat along the one direction company samples cannot identify, so
    the rated items decide it instead of a parametric form (a misspecified form drives EM to an extreme
    there, e.g. P(all annotators say no | expert) -> 0). Missing labels are marginalised by EM over
    completions.
    """

    base: str = "loglinear"
    concentration: float = 16.0
    n_iterations: int = 200
    tolerance: float = 1e-9
    name: str = "saturated"
    max_annotators: int = 16
    base_options: dict = field(default_factory=dict)
    _base_model: object = field(default=None, repr=False)
    _cache: tuple | None = field(default=None, repr=False)

    def _base_probability(self, patterns: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(2^m, 2) base-model probabilities of every full label vector, cached per (patterns, weights)."""
        key = (patterns.tobytes(), patterns.shape, weights.tobytes())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if self._base_model is None:
            self._base_model = make_model(self.base, **self.base_options)
        states = _full_states(patterns.shape[1])
        stacked = np.vstack([patterns, states])
        base_weights = np.vstack([weights, np.zeros((states.shape[0], 2))])
        base_log = self._base_model.log_likelihood(stacked, base_weights)[patterns.shape[0]:]
        probability = np.exp(base_log - special.logsumexp(base_log, axis=0, keepdims=True))
        self._cache = (key, probability)
        return probability

    def log_likelihood(self, patterns: np.ndarray, class_weights: np.ndarray,
                       labelled_weights: np.ndarray | None = None) -> np.ndarray:
        """``labelled_weights`` (the rated items alone, in EM) fit the base model; else ``class_weights`` do."""
        n_annotators = patterns.shape[1]
        if n_annotators > self.max_annotators:
            raise ValueError(f"saturated model enumerates 2^{n_annotators} label vectors; too many annotators")
        base_probability = self._base_probability(
            patterns, class_weights if labelled_weights is None else labelled_weights)
        states = _full_states(n_annotators).astype(float)
        yes = (patterns == 1).astype(float)
        no = (patterns == 0).astype(float)
        consistent = ((yes @ (1.0 - states).T + no @ states.T) == 0).astype(float)
        complete = (patterns != MISSING).all(axis=1)
        out = np.empty((patterns.shape[0], 2))
        for k in (0, 1):
            weights = class_weights[:, k]
            prior_counts = self.concentration * base_probability[:, k]
            probability = base_probability[:, k]
            iterations = 1 if complete[weights > 0].all() else self.n_iterations
            for _ in range(iterations):
                mass = consistent * probability[None, :]
                share = mass / np.maximum(mass.sum(axis=1, keepdims=True), 1e-300)
                counts = weights @ share + prior_counts
                new = counts / counts.sum()
                converged = np.max(np.abs(new - probability)) < self.tolerance
                probability = new
                if converged:
                    break
            out[:, k] = np.log(consistent @ probability)
        return out


MODELS = {"independent": IndependentModel, "probit": ProbitModel, "loglinear": LogLinearModel,
          "saturated": SaturatedModel}


def make_model(name: str, **options):
    """Model by name ('independent', 'probit', 'loglinear') with its options."""
    if name not in MODELS:
        raise ValueError(f"unknown annotator model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](**options)


def dirichlet_parameter_draws(
    patterns: np.ndarray,
    rated_counts: np.ndarray,
    base: str,
    n_draws: int,
    rng: np.random.Generator,
    concentration: float = 16.0,
    base_options: dict | None = None,
    n_iterations: int = 200,
) -> np.ndarray:
    """(n_draws, n_patterns, 2) log P(pattern | class) drawn from the posterior of the saturated model.

    The saturated model's prior on each class's distribution over the 2^m full label vectors is
    Dirichlet(concentration x base), with ``base`` the parametric model fitted to the rated items; given
    complete labels the posterior is Dirichlet(counts + concentration x base), so parameter uncertainty is
    drawn exactly, without refitting (a bootstrap would refit a model per resample). Missing labels are
    completed once by EM (their expected completions enter as counts), which understates their uncertainty
    slightly. Every pattern's probability is the sum over the full vectors consistent with it.
    """
    m = patterns.shape[1]
    if m > 16:
        raise ValueError("the saturated model enumerates 2^m label vectors; too many annotators")
    states = _full_states(m)
    base_model = make_model(base, **(base_options or {}))
    stacked = np.vstack([patterns, states])
    base_log = base_model.log_likelihood(stacked, np.vstack([rated_counts, np.zeros((states.shape[0], 2))]))[patterns.shape[0]:]
    base_probability = np.exp(base_log - special.logsumexp(base_log, axis=0, keepdims=True))
    statesf = states.astype(float)
    yes = (patterns == 1).astype(float)
    no = (patterns == 0).astype(float)
    consistent = ((yes @ (1.0 - statesf).T + no @ statesf.T) == 0).astype(float)
    out = np.empty((n_draws, patterns.shape[0], 2))
    for k in (0, 1):
        weights = rated_counts[:, k]
        prior_counts = concentration * base_probability[:, k]
        probability = base_probability[:, k]
        for _ in range(n_iterations):
            mass = consistent * probability[None, :]
            share = mass / np.maximum(mass.sum(axis=1, keepdims=True), 1e-300)
            counts = weights @ share + prior_counts
            new = counts / counts.sum()
            converged = np.max(np.abs(new - probability)) < 1e-10
            probability = new
            if converged:
                break
        out[:, :, k] = _log_dirichlet_pattern_probabilities(np.maximum(counts, 1e-6), consistent, n_draws, rng)
    return out


def _log_dirichlet_pattern_probabilities(alpha: np.ndarray, consistent: np.ndarray, n_draws: int,
                                         rng: np.random.Generator) -> np.ndarray:
    """(n_draws, n_patterns) log of sum over consistent vectors of Dirichlet(alpha) draws, in log space.

    ``rng.dirichlet`` returns exact zeros for shapes far below 1 (a full label vector the rated CVs never show
    gets alpha ~ 1e-5): a profile pattern made only of such vectors then had probability 0 under both classes
    and its employees a NaN expert probability (the draws failed, or silently counted them as non-experts).
    Gamma(a) = Gamma(a + 1) x U^(1/a) gives log Gamma without underflow (hand-written: numpy has no
    log-space gamma sampler).
    """
    log_gamma = np.log(rng.gamma(alpha + 1.0, size=(n_draws, alpha.size))) + np.log(rng.random((n_draws, alpha.size))) / alpha
    log_total = special.logsumexp(log_gamma, axis=1, keepdims=True)
    shift = log_gamma.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(log_gamma - shift) @ consistent.T) + shift - log_total
    # patterns whose consistent vectors all lie > 700 nats below the draw's largest: exact, one at a time
    for d, p in np.argwhere(np.isneginf(out)):
        members = consistent[p] > 0
        if members.any():
            out[d, p] = special.logsumexp(log_gamma[d, members]) - log_total[d, 0]
    return out
