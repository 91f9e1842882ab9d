"""Held-out evaluation of item classifiers on rated CVs, and model choice by cross-validated log-loss.

The original quoted annotator and classifier accuracy in-sample; here every number comes from K-fold
cross-validation: each model is fitted on K-1 folds and scores the held-out fold.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.annotator_models import make_model
from workforce_assets.headcount.patterns import MISSING, binary_labels, label_matrix

MODEL_NAMES = ("independent", "probit", "loglinear")
PROBABILITY_CLIP = 1e-6


def majority_vote_probability(labels: np.ndarray) -> np.ndarray:
    """Share of yes among the annotators that labelled the item (0.5 when none did); > 0.5 is a majority."""
    observed = labels != MISSING
    yes = (labels == 1).sum(axis=1)
    n = observed.sum(axis=1)
    return np.where(n > 0, yes / np.maximum(n, 1), 0.5)


def item_posteriors(model, train_labels: np.ndarray, train_truth: np.ndarray, test_labels: np.ndarray) -> np.ndarray:
    """P(expert | pattern) for test items, from a model fitted on the training items (base rate from them)."""
    patterns, inverse = np.unique(np.vstack([train_labels, test_labels]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    weights = np.zeros((patterns.shape[0], 2))
    np.add.at(weights, (inverse[: train_labels.shape[0]], train_truth.astype(np.int64)), 1.0)
    log_lik = model.log_likelihood(patterns, weights)
    base_rate = train_truth.mean()
    logit = special.logit(base_rate) + log_lik[:, 1] - log_lik[:, 0]
    return special.expit(logit)[inverse[train_labels.shape[0]:]]


def _scores(truth: np.ndarray, probability: np.ndarray, decision: np.ndarray | None = None) -> dict[str, float]:
    clipped = np.clip(probability, PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    decision = probability > 0.5 if decision is None else decision
    return {
        "accuracy": float(accuracy_score(truth, decision)),
        "log_loss": float(log_loss(truth, clipped, labels=[0, 1])),
        "brier": float(brier_score_loss(truth, probability)),
    }


def cross_validated_scores(
    rated: pl.DataFrame,
    annotators: list[str],
    n_folds: int = 5,
    seed: int = 0,
    models: dict | None = None,
) -> pl.DataFrame:
    """Accuracy, log-loss and Brier under stratified K-fold CV: majority vote, then each annotator model.

    The majority vote's probability is its share of yes votes (it has no fitted parameters, so CV changes
    nothing for it); its accuracy counts ties as yes.

    ``models`` maps a display name to a model instance (default: independent Dawid-Skene, probit,
    log-linear with their default options). Scores are over the pooled out-of-fold predictions; the
    per-fold spread is reported as ``log_loss_fold_sd``.
    """
    canonical = [canonical_annotator_name(a) for a in annotators]
    labels = label_matrix(rated, canonical, "rated items")
    truth = binary_labels(rated, "is_ml_expert", "rated items")
    models = models if models is not None else {
        "independent (Dawid-Skene)": make_model("independent"),
        "probit": make_model("probit"),
        "loglinear": make_model("loglinear"),
    }
    folds = list(StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(labels, truth))
    vote_share = majority_vote_probability(labels)
    predictions = {"majority vote": vote_share}
    fold_losses = {"majority vote": [_scores(truth[test], vote_share[test])["log_loss"] for _, test in folds]}
    with threadpool_limits(limits=1, user_api="blas"):
        for name, model in models.items():
            out = np.empty(truth.size)
            losses = []
            for train, test in folds:
                out[test] = item_posteriors(model, labels[train], truth[train], labels[test])
                losses.append(_scores(truth[test], out[test])["log_loss"])
            predictions[name] = out
            fold_losses[name] = losses
    rows = []
    for name, probability in predictions.items():
        # a majority vote counts ties as yes (at least half of the annotators that labelled the item)
        decision = probability >= 0.5 if name == "majority vote" else None
        rows.append({"model": name, **_scores(truth, probability, decision),
                     "log_loss_fold_sd": float(np.std(fold_losses[name], ddof=1)), "n_items": int(truth.size),
                     "n_folds": n_folds})
    return pl.DataFrame(rows)


def choose_model(rated: pl.DataFrame, annotators: list[str], n_folds: int = 5, seed: int = 0,
                 candidates: tuple[str, ...] = MODEL_NAMES) -> str:
    """The annotator model with the lowest cross-validated log-loss on the rated items."""
    canonical = [canonical_annotator_name(a) for a in annotators]
    usable = [name for name in candidates if not (name == "loglinear" and len(canonical) > 16)]
    table = cross_validated_scores(rated, canonical, n_folds, seed, {name: make_model(name) for name in usable})
    table = table.filter(pl.col("model") != "majority vote")
    return table.sort("log_loss").get_column("model")[0]
