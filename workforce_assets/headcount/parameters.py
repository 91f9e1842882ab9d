"""Annotator parameters from rated CVs: sensitivity / specificity with Wilson intervals, latent correlations."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special, stats

from workforce_assets.headcount.patterns import MISSING, binary_labels, label_matrix
from workforce_assets.annotation.names import canonical_annotator_name

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(32)


def _wilson(successes: int, trials: int, confidence: float) -> tuple[float, float, float]:
    if trials == 0:
        return float("nan"), float("nan"), float("nan")
    interval = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence, method="wilson")
    return successes / trials, float(interval.low), float(interval.high)


def annotator_parameters(rated: pl.DataFrame, annotators: list[str], confidence: float = 0.8) -> pl.DataFrame:
    """Per annotator: sensitivity and specificity with Wilson intervals, from the rated items carrying its label.

    ``rated`` holds ``is_ml_expert`` (0/1) and one 0/1/null column per annotator, found by canonical name.
    ``n_pos`` / ``n_neg`` count the experts / non-experts the annotator labelled; ``n_missing`` the rated
    items it did not label.
    """
    labels = label_matrix(rated, annotators, "rated items")
    truth = binary_labels(rated, "is_ml_expert", "rated items")
    rows = []
    for j, name in enumerate(annotators):
        observed = labels[:, j] != MISSING
        positives = observed & (truth == 1)
        negatives = observed & (truth == 0)
        sens = _wilson(int((labels[positives, j] == 1).sum()), int(positives.sum()), confidence)
        spec = _wilson(int((labels[negatives, j] == 0).sum()), int(negatives.sum()), confidence)
        rows.append({
            "annotator": canonical_annotator_name(name),
            "sensitivity": sens[0], "sensitivity_lower": sens[1], "sensitivity_upper": sens[2],
            "specificity": spec[0], "specificity_lower": spec[1], "specificity_upper": spec[2],
            "n_pos": int(positives.sum()), "n_neg": int(negatives.sum()), "n_missing": int((~observed).sum()),
        })
    return pl.DataFrame(rows, schema={
        "annotator": pl.Utf8,
        "sensitivity": pl.Float64, "sensitivity_lower": pl.Float64, "sensitivity_upper": pl.Float64,
        "specificity": pl.Float64, "specificity_lower": pl.Float64, "specificity_upper": pl.Float64,
        "n_pos": pl.Int64, "n_neg": pl.Int64, "n_missing": pl.Int64,
    })


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """P(X <= h, Y <= k) for standard bivariate normals with correlation rho, vectorised over all arguments.

    Uses d/drho Phi2 = phi2 (Plackett) integrated from 0 to rho after substituting r = sin(t), which removes
    the 1/sqrt(1-r^2) singularity; 32-point Gauss-Legendre is accurate to ~1e-12 for |rho| <= 0.999.
    scipy's multivariate_normal.cdf gives the same numbers but one call per (h, k, rho); tetrachoric
    fitting needs thousands of them at once.
    """
    h, k, rho = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(rho, float))
    upper = np.arcsin(np.clip(rho, -0.9999, 0.9999))
    theta = 0.5 * upper[..., None] * (_GL_NODES + 1.0)
    sin_t, cos_t = np.sin(theta), np.cos(theta)
    hh, kk = h[..., None], k[..., None]
    integrand = np.exp(-(hh * hh - 2.0 * hh * kk * sin_t + kk * kk) / (2.0 * cos_t * cos_t))
    integral = 0.5 * upper * (integrand @ _GL_WEIGHTS)
    return special.ndtr(h) * special.ndtr(k) + integral / (2.0 * np.pi)


def tetrachoric_correlations(
    labels: np.ndarray,
    weights: np.ndarray,
    thresholds: np.ndarray,
    cell_prior: float = 0.5,
    grid_step: float = 0.0025,
) -> np.ndarray:
    """Maximum-likelihood tetrachoric correlation matrix of binary annotators (one class).

    labels: (n_patterns, n_annotators) 0/1/-1; weights: (n_patterns,) how many items show each pattern
    (fractional in EM, resampled in the bootstrap); thresholds: probit of each annotator's yes-rate
    (latent yes iff Z_j > 0 with Z_j ~ N(threshold_j, 1)). Each pair uses the items labelled by both;
    ``cell_prior`` pseudo-items per 2x2 cell keep empty cells from pushing rho to +-1. The likelihood is
    maximised on a grid of rho then refined by a parabola through the best three grid points.
    """
    n_annotators = labels.shape[1]
    yes = (labels == 1).astype(float) * weights[:, None]
    no = (labels == 0).astype(float) * weights[:, None]
    n11 = yes.T @ (labels == 1).astype(float)
    n10 = yes.T @ (labels == 0).astype(float)
    n01 = no.T @ (labels == 1).astype(float)
    n00 = no.T @ (labels == 0).astype(float)
    rows, cols = np.triu_indices(n_annotators, 1)
    result = np.eye(n_annotators)
    if rows.size == 0:
        return result
    grid = np.arange(-0.995, 0.995 + 1e-12, grid_step)
    h = thresholds[rows][:, None]
    k = thresholds[cols][:, None]
    p11 = bivariate_normal_cdf(h, k, grid[None, :])  # P(Z_i > 0, Z_j > 0) = Phi2(mu_i, mu_j; rho)
    p1_, p_1 = special.ndtr(h), special.ndtr(k)
    cells = np.stack([p11, p1_ - p11, p_1 - p11, 1.0 - p1_ - p_1 + p11])
    cells = np.clip(cells, 1e-300, None)
    counts = np.stack([n11[rows, cols], n10[rows, cols], n01[rows, cols], n00[rows, cols]]) + cell_prior
    loglik = np.einsum("cp,cpg->pg", counts, np.log(cells))
    best = np.argmax(loglik, axis=1)
    inner = np.clip(best, 1, grid.size - 2)
    left, mid, right = (loglik[np.arange(rows.size), inner + d] for d in (-1, 0, 1))
    curvature = left - 2 * mid + right
    shift = np.where(curvature < 0, 0.5 * (left - right) / np.where(curvature < 0, curvature, -1.0), 0.0)
    rho = grid[inner] + np.clip(shift, -1, 1) * grid_step
    result[rows, cols] = rho
    result[cols, rows] = rho
    return result


def nearest_correlation(matrix: np.ndarray, shrinkage: float = 0.0, min_eigenvalue: float = 1e-3) -> np.ndarray:
    """Repair a pairwise-estimated correlation matrix to positive definite, then shrink towards identity.

    Pairwise tetrachoric estimates need not form a valid correlation matrix; eigenvalues are clipped and the
    diagonal rescaled to one. ``shrinkage`` in [0, 1] mixes with the identity (0 = none).
    """
    if not 0.0 <= shrinkage <= 1.0:
        raise ValueError("shrinkage must lie in [0, 1]")
    symmetric = 0.5 * (matrix + matrix.T)
    values, vectors = np.linalg.eigh(symmetric)
    repaired = (vectors * np.maximum(values, min_eigenvalue)) @ vectors.T
    scale = np.sqrt(np.diag(repaired))
    repaired = repaired / np.outer(scale, scale)
    shrunk = (1.0 - shrinkage) * repaired + shrinkage * np.eye(matrix.shape[0])
    np.fill_diagonal(shrunk, 1.0)
    return shrunk
