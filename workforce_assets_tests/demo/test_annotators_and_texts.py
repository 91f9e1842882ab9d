"""Simulated LLM annotators hit their operating points with correlated errors; texts fool filters like real ones."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from workforce_assets.demo.annotators import (
    DEFAULT_LLM_ANNOTATORS,
    render_labels_with_missing,
    simulate_annotator_labels,
)
from workforce_assets.demo.profile_text import PAST_EMPLOYERS, generate_profile_texts

# Independent re-statement of the study's reference keyword filters (case-insensitive, word boundaries).
ML = ["machine learning", "ML", "deep learning", "reinforcement learning", "RL"]
BROAD_YES = ["augmented generation", "agent reinforcement", "mats scholar", "mats", "research scientist", "evals",
             "interpretability", "feature engineering", "research intern", "candidate", "graduate research assistant",
             "science institute", "staff research scientist", "doctor"]
STRICT_NO = ["certificate", "programmer", "council", "companies", "capital", "proven track record", "pilot", "money",
             "specialist", "chief", "udemy", "track record", "customer", "management", "today", "cross functional",
             "administrator", "excellence", "commerce", "linkedin", "leader", "incident", "tier", "brand", "investment",
             "hr", "sites", "offerings", "prior", "centers", "advising", "certified information", "key responsibilities",
             "master data", "anti", "deadlines", "physiology", "carbon", "impacts", "certified machine", "qualification"]

REAL_FILTER_RATES = {  # sensitivity, specificity on the real rated CVs
    "filter_broad_yes": (0.562, 0.910),
    "filter_strict_no": (0.412, 0.891),
    "filter_broad_yes_strict_no": (0.301, 0.981),
}


def _any_term(texts: list[str], terms: list[str]) -> np.ndarray:
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b", re.IGNORECASE)
    return np.array([pattern.search(t) is not None for t in texts])


def keyword_filters(texts: list[str]) -> dict[str, np.ndarray]:
    ml, broad, strict = _any_term(texts, ML), _any_term(texts, BROAD_YES), _any_term(texts, STRICT_NO)
    return {
        "filter_broad_yes": ml & broad,
        "filter_strict_no": ml & ~strict,
        "filter_broad_yes_strict_no": ml & broad & ~strict,
    }


def _sens_spec(fired: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    return float(fired[truth].mean()), float(1 - fired[~truth].mean())


def test_annotators_hit_their_operating_points():
    rng = np.random.default_rng(0)
    truth = np.arange(20_000) % 2 == 0
    labels = simulate_annotator_labels(truth, rng)
    assert labels.shape == (20_000, 3) and labels.dtype == np.int8
    for j, annotator in enumerate(DEFAULT_LLM_ANNOTATORS):
        sens, spec = _sens_spec(labels[:, j].astype(bool), truth)
        assert sens == pytest.approx(annotator.sensitivity, abs=0.03), annotator.name
        assert spec == pytest.approx(annotator.specificity, abs=0.03), annotator.name


def test_annotator_errors_are_positively_correlated():
    rng = np.random.default_rng(1)
    truth = np.arange(20_000) % 4 == 0
    labels = simulate_annotator_labels(truth, rng)
    errors = labels != truth[:, None]
    for cls in (True, False):
        corr = np.corrcoef(errors[truth == cls].T)
        off_diagonal = corr[~np.eye(3, dtype=bool)]
        assert (off_diagonal > 0.1).all(), (cls, corr)
    # Independence would give the product of error rates; correlated annotators err together more often.
    both_miss = (errors[truth][:, 0] & errors[truth][:, 1]).mean()
    assert both_miss > errors[truth][:, 0].mean() * errors[truth][:, 1].mean() * 1.3


def test_zero_correlation_gives_independent_errors():
    rng = np.random.default_rng(2)
    truth = np.ones(20_000, dtype=bool)
    labels = simulate_annotator_labels(truth, rng, expert_correlation=0.0, non_expert_correlation=0.0)
    corr = np.corrcoef(labels.T)
    assert np.abs(corr[~np.eye(3, dtype=bool)]).max() < 0.03


def test_missing_labels_are_errors_and_empty_cells():
    rng = np.random.default_rng(3)
    rendered = render_labels_with_missing(np.ones((50_000, 3), dtype=np.int8), rng)
    values, counts = np.unique(rendered.astype(str), return_counts=True)
    shares = dict(zip(values.tolist(), (counts / rendered.size).tolist()))
    assert shares["ERROR"] == pytest.approx(0.01, abs=0.002)
    assert shares[""] == pytest.approx(0.005, abs=0.0015)
    assert set(shares) == {"1", "ERROR", ""}


def test_reference_filters_behave_like_on_real_cvs():
    """A large draw from the rated-CV generator: filter sensitivity/specificity near the real ones."""
    rng = np.random.default_rng(4)
    n = 6_000
    truth = rng.random(n) < 0.3
    industries = np.array(["Software", "Healthcare", "Financial services", "AI research lab"], dtype=object)[rng.integers(0, 4, n)]
    employers = np.array(PAST_EMPLOYERS, dtype=object)[rng.integers(0, len(PAST_EMPLOYERS), n)]
    texts, _ = generate_profile_texts(truth.astype(np.int8), industries, employers, rng)
    for name, fired in keyword_filters(texts).items():
        sens, spec = _sens_spec(fired, truth)
        real_sens, real_spec = REAL_FILTER_RATES[name]
        assert sens == pytest.approx(real_sens, abs=0.04), name
        assert spec == pytest.approx(real_spec, abs=0.02), name


def test_texts_overlap_between_classes(default_world):
    rated = pl.read_csv(default_world.out_dir / "rated_cvs.csv")
    truth = rated["is_ml_expert"].to_numpy().astype(bool)
    broad_yes = keyword_filters(rated["cv_text"].to_list())["filter_broad_yes"]
    assert broad_yes[~truth].sum() >= 10  # non-experts that look like experts to the filter
    assert (~broad_yes[truth]).sum() >= 10  # experts the filter misses
    texts = np.array(rated["cv_text"].to_list(), dtype=object)
    non_expert_ml = [t for t in texts[~truth] if re.search(r"\bmachine learning\b|\bML\b", t, re.IGNORECASE)]
    assert len(non_expert_ml) >= 50  # analysts, PMs, MLOps say "machine learning" too
    assert sum("PyTorch" in t for t in texts[truth]) > sum("PyTorch" in t for t in texts[~truth])


def test_generated_rated_cv_filter_rates_are_near_real(default_world):
    rated = pl.read_csv(default_world.out_dir / "rated_cvs.csv")
    truth = rated["is_ml_expert"].to_numpy().astype(bool)
    for name, fired in keyword_filters(rated["cv_text"].to_list()).items():
        sens, spec = _sens_spec(fired, truth)
        real_sens, real_spec = REAL_FILTER_RATES[name]
        assert sens == pytest.approx(real_sens, abs=0.1), name  # 157 experts: sampling sd ~0.04
        assert spec == pytest.approx(real_spec, abs=0.05), name


def test_calibration_terms_are_the_project_reference_filters():
    """The generator calibrates texts against the same term lists the annotation domain applies."""
    from workforce_assets.annotation.keywords import REFERENCE_KEYWORDS
    from workforce_assets.demo import profile_text

    assert set(profile_text.ML_TERMS) == set(REFERENCE_KEYWORDS.ml_terms)
    assert set(profile_text.BROAD_YES_TERMS) == set(REFERENCE_KEYWORDS.broad_yes)
    assert set(profile_text.STRICT_NO_TERMS) == set(REFERENCE_KEYWORDS.strict_no)
