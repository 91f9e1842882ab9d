"""Company prevalence: a zero-inflated Beta prior fitted across companies (empirical Bayes) on a grid.

The prior is what lets a company's own annotations move its estimate (unlike the original's fixed prior per
size bucket) while companies with two sampled profiles borrow strength from the rest. Its zero atom lets a
company have no expert at all - common, and impossible under a plain Beta.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class PrevalenceGrid:
    """Cells of (0, 1] plus an exact atom at 0.

    values[0] == 0 is the atom; cell g >= 1 spans (lower[g], upper[g]] and is represented by values[g].
    Cells are geometric near zero (where small companies' prevalences live) and linear above.
    """

    values: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def default(cls, linear_step: float = 0.0025, smallest: float = 1e-5, switch: float = 0.02,
                geometric_cells: int = 40) -> "PrevalenceGrid":
        geometric = np.geomspace(smallest, switch, geometric_cells + 1)
        linear = np.arange(switch, 1.0 + 1e-12, linear_step)
        if linear[-1] < 1.0:
            linear = np.r_[linear, 1.0]
        edges = np.unique(np.r_[0.0, geometric, linear[1:]])
        lower, upper = edges[:-1], edges[1:]
        values = 0.5 * (lower + upper)
        return cls(values=np.r_[0.0, values], lower=np.r_[0.0, lower], upper=np.r_[0.0, upper])

    @property
    def size(self) -> int:
        return self.values.size

    @property
    def edges(self) -> np.ndarray:
        """Edges of the cells of (0, 1]: lower[1], ..., lower[-1], upper[-1]."""
        return np.r_[self.lower[1:], self.upper[-1]]


@dataclass(frozen=True)
class ZeroInflatedBeta:
    """P(prevalence == 0) = zero_weight; otherwise Beta(alpha, beta)."""

    zero_weight: float
    alpha: float
    beta: float

    def cell_masses(self, grid: PrevalenceGrid) -> np.ndarray:
        cdf = special.betainc(self.alpha, self.beta, grid.edges)
        masses = np.empty(grid.size)
        masses[0] = self.zero_weight
        masses[1:] = (1.0 - self.zero_weight) * np.clip(np.diff(cdf), 0.0, None)
        return masses / masses.sum()

    def mean(self) -> float:
        return (1.0 - self.zero_weight) * self.alpha / (self.alpha + self.beta)


def pattern_grid_log_likelihood(log_lik: np.ndarray, grid: PrevalenceGrid) -> np.ndarray:
    """(n_patterns, n_grid): log P(pattern | prevalence) = log(pi P(pattern|expert) + (1-pi) P(pattern|not))."""
    with np.errstate(divide="ignore"):
        log_pi = np.log(grid.values)[None, :]
        log_not = np.log1p(-grid.values)[None, :]
    return np.logaddexp(log_pi + log_lik[:, 1:2], log_not + log_lik[:, 0:1])


def fit_zero_inflated_beta(
    company_log_lik: np.ndarray,
    grid: PrevalenceGrid,
    start: ZeroInflatedBeta | None = None,
    prior_sd: float = 3.0,
    max_iterations: int = 100,
    relative: np.ndarray | None = None,
    zero_atom: bool = True,
    company_weights: np.ndarray | None = None,
) -> ZeroInflatedBeta:
    """Empirical Bayes: maximise the marginal likelihood of all companies' samples over (zero_weight, alpha, beta).

    company_log_lik: (n_companies, n_grid) log P(company's sampled patterns | prevalence = grid value);
    the hyperparameters do not depend on the grid, so a coarse grid serves (each evaluation is one
    matrix-vector product over it). A weak normal prior (sd ``prior_sd``) on log(alpha), log(beta) keeps the
    fit finite when few companies are given. Companies without samples carry no
    information and drop out. ``relative`` (from :func:`relative_likelihood`) can be passed instead of
    recomputing it from ``company_log_lik``. Direct quasi-Newton on the marginal likelihood: EM on the same problem
    crawls along the near-flat direction that trades the zero atom against Beta mass near zero.
    ``zero_atom=False`` fits a plain Beta (zero_weight fixed at 0: the EM's E-step uses that).
    ``company_weights`` (one per row, e.g. bootstrap multiplicities) weight each company's log marginal.
    """
    prior = start or ZeroInflatedBeta(0.3, 0.5, 10.0)
    # a company without samples has a flat row: its marginal is sum(masses) = 1 whatever the prior
    scaled = relative_likelihood(company_log_lik) if relative is None else relative
    # the zero weight itself (not its logit) is optimised: near 0 a logit's gradient vanishes and the fit
    # stays stuck at "no zero atom" even when zero-expert companies are common
    weights = np.ones(scaled.shape[0]) if company_weights is None else np.asarray(company_weights, dtype=float)
    x0 = np.array([np.clip(prior.zero_weight, 0.02, 0.98) if zero_atom else 0.0, np.log(prior.alpha), np.log(prior.beta)])

    def masses(x):
        return ZeroInflatedBeta(x[0], np.exp(x[1]), np.exp(x[2])).cell_masses(grid)

    def negative_log_posterior(x):
        # the marginal likelihood is linear in the cell masses: one transposed product gives its gradient
        # with respect to every mass, and the chain rule needs only grid-length finite differences
        cell = masses(x)
        marginal = np.maximum(scaled @ cell, 1e-300)
        value = -np.sum(weights * np.log(marginal)) + 0.5 * np.sum((x[1:] / prior_sd) ** 2)
        d_value_d_cell = -(scaled.T @ (weights / marginal))
        gradient = np.empty(3)
        for i, step in enumerate((1e-6, 1e-5, 1e-5)):
            shifted = x.copy()
            shifted[i] = shifted[i] + step if i or shifted[i] + step <= 0.999 else shifted[i] - step
            gradient[i] = d_value_d_cell @ (masses(shifted) - cell) / (shifted[i] - x[i])
        gradient[1:] += x[1:] / prior_sd ** 2
        return value, gradient

    result = optimize.minimize(
        negative_log_posterior, x0, method="L-BFGS-B", jac=True,
        bounds=[(0.0, 0.999 if zero_atom else 0.0), (np.log(0.02), np.log(50.0)), (np.log(0.05), np.log(1e5))],
        options={"maxiter": max_iterations},
    )
    x = result.x
    return ZeroInflatedBeta(float(x[0]), float(np.exp(x[1])), float(np.exp(x[2])))


def relative_likelihood(company_log_lik: np.ndarray) -> np.ndarray:
    """exp(log-likelihood - its row maximum): each company's likelihood over the grid, scaled to peak at 1."""
    return np.exp(company_log_lik - company_log_lik.max(axis=1, keepdims=True))


def grid_posterior(company_log_lik: np.ndarray | None, prior: ZeroInflatedBeta, grid: PrevalenceGrid,
                   relative: np.ndarray | None = None) -> np.ndarray:
    """(n_companies, n_grid) posterior probabilities of each prevalence cell."""
    scaled = relative_likelihood(company_log_lik) if relative is None else relative
    posterior = scaled * prior.cell_masses(grid)[None, :]
    posterior /= posterior.sum(axis=1, keepdims=True)
    return posterior


def posterior_cdf(posterior: np.ndarray) -> np.ndarray:
    """Row-wise cumulative probabilities, offset by the row index so one searchsorted serves all rows."""
    cdf = np.cumsum(posterior, axis=1)
    cdf /= cdf[:, -1:]
    cdf += np.arange(posterior.shape[0])[:, None]
    return cdf.ravel()


def sample_prevalence(cdf: np.ndarray, grid: PrevalenceGrid, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """(n_companies, n_draws) prevalences: a cell by inverse CDF, then uniform within the cell (0 for the atom).

    ``cdf`` comes from :func:`posterior_cdf`.
    """
    n_companies = cdf.size // grid.size
    offsets = np.arange(n_companies)[:, None]
    u = rng.random((n_companies, n_draws)) + offsets
    cell = np.searchsorted(cdf, u.ravel(), side="left").reshape(n_companies, n_draws) - offsets * grid.size
    cell = np.clip(cell, 0, grid.size - 1)
    within = rng.random((n_companies, n_draws))
    return grid.lower[cell] + within * (grid.upper[cell] - grid.lower[cell])


@dataclass(frozen=True)
class LogSplinePrior:
    """A prevalence prior of any shape: a zero atom plus a density on (0, 1) whose log is a cubic B-spline in
    logit(prevalence) (Efron's g-modelling with a P-spline roughness penalty).

    ``coefficients`` multiply the B-spline basis on ``knots``; cell masses are density x cell width in logit
    space (midpoint rule), renormalised, so the same prior serves any :class:`PrevalenceGrid`.
    """

    zero_weight: float
    coefficients: tuple
    knots: tuple
    penalty: float = 0.0

    def cell_masses(self, grid: PrevalenceGrid) -> np.ndarray:
        design, log_width = _spline_design(grid, np.asarray(self.knots))
        log_density = design @ np.asarray(self.coefficients) + log_width
        nonzero = np.exp(log_density - log_density.max())
        nonzero /= nonzero.sum()
        return np.r_[self.zero_weight, (1.0 - self.zero_weight) * nonzero]

    def mean(self, grid: PrevalenceGrid | None = None) -> float:
        grid = grid or PrevalenceGrid.default()
        return float(self.cell_masses(grid) @ grid.values)


SPLINE_RANGE = (special.logit(1e-5), special.logit(0.995))


def spline_knots(n_basis: int = 24, degree: int = 3) -> np.ndarray:
    """Clamped cubic B-spline knots spanning logit(1e-5)..logit(0.995) with ``n_basis`` basis functions."""
    inner = np.linspace(*SPLINE_RANGE, n_basis - degree + 1)
    return np.r_[[inner[0]] * degree, inner, [inner[-1]] * degree]


def _spline_design(grid: PrevalenceGrid, knots: np.ndarray, degree: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """B-spline basis at each non-zero cell's logit midpoint, and the log of the cell's width in logit space."""
    from scipy.interpolate import BSpline

    lower = np.clip(grid.lower[1:], 1e-7, 1 - 1e-7)
    upper = np.clip(grid.upper[1:], 1e-7, 1 - 1e-7)
    low_logit, high_logit = special.logit(lower), special.logit(upper)
    middle = np.clip(0.5 * (low_logit + high_logit), knots[0], knots[-1])
    design = BSpline.design_matrix(middle, knots, degree).toarray()
    return design, np.log(np.maximum(high_logit - low_logit, 1e-12))


def fit_log_spline_prior(
    company_log_lik: np.ndarray | None,
    grid: PrevalenceGrid,
    penalty: float = 1.0,
    n_basis: int = 24,
    company_weights: np.ndarray | None = None,
    relative: np.ndarray | None = None,
    start: LogSplinePrior | None = None,
    zero_atom: bool = True,
    max_iterations: int = 1000,
    tolerance: float = 1e-9,
    linear_below: float | None = None,
    zero_weight: float | None = None,
) -> LogSplinePrior:
    """Penalised marginal maximum likelihood of a :class:`LogSplinePrior` over the companies' grid likelihoods.

    Penalty: ``penalty`` x the squared second differences of the coefficients (a P-spline: large penalties
    tend to a log-linear density in logit space, small ones let the data shape it), plus a tiny ridge that
    pins the coefficients' free level. ``company_weights`` weight each company's log marginal (bootstrap
    multiplicities, kernel weights). Analytic gradient; L-BFGS, stopping when the objective's relative change
    falls under ``tolerance``.

    ``linear_below``: a prevalence under which the company samples cannot resolve the density's shape (with
    annotator false-positive rates of a few percent and samples of hundreds, about 0.1%). There the spline's
    coefficients are tied to the linear extrapolation of the first two above the floor (fewer free
    parameters), so the log-density continues as a line in logit(prevalence) that does not rise towards zero -
    a power law, as a Beta's - instead of a spike at 0.001-0.1%. It does not settle how much mass sits at zero
    against just above it: a flat line still spreads mass down to 1e-5, and the free atom can still collapse
    (test_transport.py); ``zero_weight`` settles that.

    ``zero_weight``: the zero atom's weight held at this value (e.g. the zero-inflated Beta's, whose parametric
    form extrapolates the bulk's power law towards zero) instead of being fitted with the spline.
    """
    scaled = relative_likelihood(company_log_lik) if relative is None else relative
    weights = np.ones(scaled.shape[0]) if company_weights is None else np.asarray(company_weights, dtype=float)
    knots = spline_knots(n_basis)
    design, log_width = _spline_design(grid, knots)
    k = design.shape[1]
    difference = np.diff(np.eye(k), n=2, axis=0)
    roughness = penalty * difference.T @ difference + 1e-4 * np.eye(k)
    # coefficients = tail @ free: identity, except that with ``linear_below`` the coefficients whose Greville
    # abscissa lies under the floor are the linear extrapolation of the first two above it, which makes the
    # spline exactly linear there (a B-spline with coefficients linear in the Greville abscissae is that line);
    # the free parameters are then (first anchor, slope step >= 0, the rest), so the line never rises toward 0
    tail = np.eye(k)
    bounds = [(-30.0, 30.0)] * k
    if linear_below is not None:
        greville = np.array([knots[j + 1:j + 4].mean() for j in range(k)])
        held = int(np.sum(greville < special.logit(linear_below)))
        if 0 < held <= k - 3:
            s = (greville[:held + 2] - greville[held]) / (greville[held + 1] - greville[held])
            tail = np.zeros((k, k - held))
            tail[:held + 2, 0] = 1.0
            tail[:held + 2, 1] = s
            tail[held + 2:, 2:] = np.eye(k - held - 2)
            bounds = [(-30.0, 30.0), (0.0, 30.0)] + [(-30.0, 30.0)] * (k - held - 2)
    free_roughness = tail.T @ roughness @ tail
    n_free = tail.shape[1]
    if start is not None and len(start.coefficients) == k:
        free_start = np.linalg.lstsq(tail, np.asarray(start.coefficients), rcond=None)[0]
        free_start = np.clip(free_start, [b[0] for b in bounds], [b[1] for b in bounds])
        x0 = np.r_[special.logit(np.clip(start.zero_weight, 1e-3, 1 - 1e-3)) if zero_atom else 0.0, free_start]
    else:
        x0 = np.r_[special.logit(0.2) if zero_atom else 0.0, np.zeros(n_free)]
    atom_bounds = (-12.0, 12.0) if zero_atom else (0.0, 0.0)
    if zero_weight is not None and zero_atom:
        x0[0] = special.logit(np.clip(zero_weight, 1e-5, 1 - 1e-5))
        atom_bounds = (x0[0], x0[0])
    free_design = design @ tail

    masses = np.empty(design.shape[0] + 1)
    gradient = np.empty(n_free + 1)

    def objective(x):
        zero_weight = special.expit(x[0]) if zero_atom else 0.0
        beta = x[1:]
        logits = free_design @ beta + log_width
        q = np.exp(logits - logits.max())
        q /= q.sum()
        masses[0] = zero_weight
        np.multiply(1 - zero_weight, q, out=masses[1:])
        marginal = np.maximum(scaled @ masses, 1e-300)
        penalty_gradient = free_roughness @ beta
        value = -np.dot(weights, np.log(marginal)) + 0.5 * beta @ penalty_gradient
        g = -(scaled.T @ (weights / marginal))  # d value / d mass
        g_nonzero = g[1:]
        centred = g_nonzero - q @ g_nonzero
        gradient[1:] = (1 - zero_weight) * (free_design.T @ (q * centred)) + penalty_gradient
        gradient[0] = zero_weight * (1 - zero_weight) * (g[0] - q @ g_nonzero) if zero_atom else 0.0
        return value, gradient.copy()

    result = optimize.minimize(objective, x0, jac=True, method="L-BFGS-B",
                               bounds=[atom_bounds] + bounds,
                               options={"maxiter": max_iterations, "ftol": tolerance})
    x = result.x
    zero_weight = float(special.expit(x[0])) if zero_atom else 0.0
    x = np.r_[x[0], tail @ x[1:]]
    return LogSplinePrior(zero_weight, tuple(float(v) for v in x[1:]), tuple(float(v) for v in knots), penalty)


def choose_spline_penalty(
    company_log_lik: np.ndarray,
    grid: PrevalenceGrid,
    penalties: tuple = (0.03, 0.3, 3.0, 30.0),
    n_folds: int = 5,
    seed: int = 0,
    company_weights: np.ndarray | None = None,
    max_companies: int = 2000,
    leave_one_out_below: int = 30,
    include_beta: bool = False,
    linear_below: float | None = None,
    zero_weight: float | None = None,
) -> tuple[float | str, dict]:
    """The roughness penalty with the highest held-out marginal likelihood (k-fold over companies).

    With ``include_beta`` the zero-inflated Beta family competes on the same folds, and the answer is
    ``"beta"`` when its held-out marginal likelihood is the highest: a three-parameter family that fits
    beats a spline that has to learn the shape (and the zero atom against mass near zero) from the data.

    Only companies that carry information (a non-flat row) are split; above ``max_companies`` of them a random
    subset of that size is used; with at most ``leave_one_out_below`` of them, leave-one-out. Folds come from
    ``seed``: keep it fixed (the default) so the penalty is a function of the data, not of the run's seed. Returns (penalty, {penalty: held-out
    log marginal likelihood}).
    """
    relative = relative_likelihood(company_log_lik)
    informative = np.flatnonzero(relative.min(axis=1) < 1.0 - 1e-12)
    if company_weights is not None:
        informative = informative[np.asarray(company_weights)[informative] > 0]
    if informative.size < 2 * n_folds:
        return float(np.median(penalties)), {}
    rng = np.random.default_rng(seed)
    if informative.size > max_companies:  # the choice among four penalties is settled long before 10,000 rows
        informative = np.sort(rng.choice(informative, max_companies, replace=False))
    if informative.size <= leave_one_out_below:  # few companies: every split, so no split depends on a seed
        n_folds = informative.size
    fold = np.empty(relative.shape[0], dtype=int)
    fold[informative] = rng.permutation(informative.size) % n_folds

    def held_out(fit) -> float:
        """Summed held-out log marginal likelihood of ``fit(rows, start)`` over the folds (warm-started from
        its fit on every informative company)."""
        full = fit(informative, None)
        total = 0.0
        for f in range(n_folds):
            train = informative[fold[informative] != f]
            test = informative[fold[informative] == f]
            prior = fit(train, full)
            total += float(np.sum(np.log(np.maximum(relative[test] @ prior.cell_masses(grid), 1e-300))))
        return total

    scores = {penalty: held_out(lambda rows, start, penalty=penalty: fit_log_spline_prior(
        None, grid, penalty=penalty, relative=relative[rows], start=start, linear_below=linear_below,
        zero_weight=zero_weight))
        for penalty in penalties}
    if include_beta:
        scores["beta"] = held_out(lambda rows, start: fit_zero_inflated_beta(
            None, grid, relative=relative[rows], start=start))
    return max(scores, key=scores.get), scores
