"""Simulated LLM annotators with correlated errors.

Real LLM annotators share blind spots (a terse expert profile fools all of them at once), so an estimator
that assumes conditionally independent annotators is over-confident. The demo world reproduces that with a
class-conditional latent Gaussian model: for an item of true class k, a latent vector z ~ N(mu_k, R_k) with
unit variances is drawn and annotator j says "expert" when z_j > 0. The probit means pin each annotator's
sensitivity / specificity exactly; the off-diagonal correlation of R_k sets how much their errors co-occur.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class SimulatedAnnotator:
    """One simulated annotator: canonical name and its true operating point."""

    name: str
    sensitivity: float
    specificity: float


#: Calibrated to the real rated-CV figures of the ML-headcount study (153 experts / 432 not).
DEFAULT_LLM_ANNOTATORS: tuple[SimulatedAnnotator, ...] = (
    SimulatedAnnotator("llm_gemini_2_5_flash", sensitivity=0.712, specificity=0.829),
    SimulatedAnnotator("llm_sonnet_4", sensitivity=0.588, specificity=0.975),
    SimulatedAnnotator("llm_gpt_5_mini", sensitivity=0.725, specificity=0.868),
)

#: Latent correlation between annotators among true experts / true non-experts.
EXPERT_LATENT_CORRELATION = 0.45
NON_EXPERT_LATENT_CORRELATION = 0.35

#: Share of labels that come back as the literal string ERROR / as an empty cell (like real batch output).
ERROR_LABEL_RATE = 0.01
EMPTY_LABEL_RATE = 0.005


def equicorrelation_matrix(size: int, correlation: float) -> np.ndarray:
    """Unit-diagonal matrix with one common off-diagonal correlation (positive definite for -1/(k-1) < r < 1)."""
    if not -1.0 / max(size - 1, 1) < correlation < 1.0:
        raise ValueError(f"correlation {correlation} does not give a positive definite {size}x{size} matrix")
    matrix = np.full((size, size), float(correlation))
    np.fill_diagonal(matrix, 1.0)
    return matrix


def simulate_annotator_labels(
    is_expert: np.ndarray,
    rng: np.random.Generator,
    annotators: tuple[SimulatedAnnotator, ...] = DEFAULT_LLM_ANNOTATORS,
    expert_correlation: float = EXPERT_LATENT_CORRELATION,
    non_expert_correlation: float = NON_EXPERT_LATENT_CORRELATION,
) -> np.ndarray:
    """0/1 labels (n_items x n_annotators, int8) from the class-conditional latent Gaussian model.

    The same function labels rated CVs and company profiles, so what is learnt on the rated CVs transfers.
    """
    truth = np.asarray(is_expert).astype(bool)
    sensitivity = np.array([a.sensitivity for a in annotators])
    specificity = np.array([a.specificity for a in annotators])
    # P(z_j > 0) = Phi(mu_j): experts need Phi(mu) = sensitivity, non-experts Phi(mu) = 1 - specificity.
    mean_expert = norm.ppf(sensitivity)
    mean_non_expert = norm.ppf(1.0 - specificity)
    chol_expert = np.linalg.cholesky(equicorrelation_matrix(len(annotators), expert_correlation))
    chol_non_expert = np.linalg.cholesky(equicorrelation_matrix(len(annotators), non_expert_correlation))

    # One standard-normal draw per item (in item order) keeps the result independent of how classes interleave.
    noise = rng.standard_normal((truth.size, len(annotators)))
    latent = np.where(
        truth[:, None],
        mean_expert + noise @ chol_expert.T,
        mean_non_expert + noise @ chol_non_expert.T,
    )
    return (latent > 0).astype(np.int8)


def render_labels_with_missing(
    labels: np.ndarray,
    rng: np.random.Generator,
    error_rate: float = ERROR_LABEL_RATE,
    empty_rate: float = EMPTY_LABEL_RATE,
) -> np.ndarray:
    """Labels as the strings a batch job writes: '1'/'0', with some 'ERROR' and some empty cells."""
    rendered = np.where(np.asarray(labels) == 1, "1", "0").astype(object)
    draw = rng.random(rendered.shape)
    rendered[draw < error_rate] = "ERROR"
    rendered[(draw >= error_rate) & (draw < error_rate + empty_rate)] = ""
    return rendered
