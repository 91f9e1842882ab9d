"""Calibrated log-debias: correct each method's count with its rated-CV sensitivity and specificity.

The original log-debias removes each method's *typical* bias relative to the other methods; nothing ties it
to the truth, and its "80% interval" is the spread of the methods. Here each method's apparent share is
corrected by Rogan-Gladen, prevalence = (apparent + specificity - 1) / (sensitivity + specificity - 1), using
that annotator's sensitivity and specificity on the rated CVs, and the uncertainty of both the rated-CV
estimates (stratified bootstrap, which keeps the annotators' estimates jointly resampled) and of an
apparent share measured on a sample (Jeffreys posterior) is propagated by simulation. The consensus is the
median over methods within each draw.
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl

from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.patterns import MISSING, binary_labels, label_matrix


def _bootstrap_rates(labels: np.ndarray, truth: np.ndarray, n_draws: int, rng: np.random.Generator,
                     resample: bool = True):
    """(n_draws, n_annotators) sensitivity and specificity from stratified bootstrap resamples of rated items
    (``resample=False``: the rated items themselves, once)."""
    n_annotators = labels.shape[1]
    sens = np.empty((n_draws, n_annotators))
    spec = np.empty((n_draws, n_annotators))
    for k, out in ((1, sens), (0, spec)):
        rows = labels[truth == k]
        hit = (rows == k).astype(float)          # said yes for experts, no for non-experts
        seen = (rows != MISSING).astype(float)
        counts = (rng.multinomial(rows.shape[0], np.full(rows.shape[0], 1.0 / rows.shape[0]), size=n_draws)
                  if resample else np.ones((n_draws, rows.shape[0])))
        # Jeffreys half-counts keep a resample where an annotator was never right (or never wrong) off 0 and 1
        out[:] = (counts @ hit + 0.5) / (counts @ seen + 1.0)
    return sens, spec


def rogan_gladen_consensus(
    counts: pl.DataFrame,
    rated: pl.DataFrame,
    methods: dict[str, str],
    populations: dict[str, str] | None = None,
    headcount_column: str = "headcount",
    id_column: str = "company_id",
    n_draws: int = 1000,
    seed: int = 0,
) -> pl.DataFrame:
    """Per company: Rogan-Gladen corrected counts combined by the median, with an 80% interval.

    counts: one row per company with ``id_column``, ``headcount_column`` and a count column per method.
    methods: count column -> annotator name in ``rated`` (matched by canonical name).
    populations: count column -> column holding how many employees that method looked at (default: the
    headcount, as for keyword searches over the whole company; for LLM accept counts on a sample, the
    sample size). Null counts or populations make the method missing for that company; a count outside
    [0, population] (or a population of 0) is not used and is named in ``invalid_methods``.
    Returns id, estimate, lower80, upper80, lower90, upper90, n_methods, one corrected count per method, and
    invalid_methods.
    """
    annotators = [canonical_annotator_name(a) for a in methods.values()]
    labels = label_matrix(rated, annotators, "rated items")
    truth = binary_labels(rated, "is_ml_expert", "rated items")
    rng = np.random.default_rng(seed)
    columns = list(methods)
    populations = populations or {}
    headcount = counts.get_column(headcount_column).cast(pl.Float64).to_numpy()
    observed = counts.select([pl.col(c).cast(pl.Float64) for c in columns]).to_numpy()
    population = np.column_stack([
        counts.get_column(populations.get(c, headcount_column)).cast(pl.Float64).to_numpy() for c in columns
    ]) if columns else np.empty((counts.height, 0))
    present = ~np.isnan(observed) & ~np.isnan(population)
    invalid = present & ((observed < 0) | (observed > population) | (population <= 0))
    usable = present & ~invalid
    positives = np.where(usable, observed, 0.0)
    trials = np.where(usable, population, 1.0)

    sens, spec = _bootstrap_rates(labels, truth, n_draws, rng)
    # apparent share: exact for a whole-company count, Jeffreys posterior when measured on a sample
    sampled = usable & (population < headcount[:, None])
    n_companies, n_methods = observed.shape
    apparent = np.broadcast_to((positives / trials)[:, :, None], (n_companies, n_methods, n_draws)).copy()
    if sampled.any():
        rows, cols = np.nonzero(sampled)
        apparent[rows, cols, :] = rng.beta(positives[rows, cols, None] + 0.5,
                                           trials[rows, cols, None] - positives[rows, cols, None] + 0.5,
                                           size=(rows.size, n_draws))
    point_sens, point_spec = _bootstrap_rates(labels, truth, 1, rng, resample=False)
    chance = (point_sens + point_spec - 1.0)[0] <= 0
    if chance.any():
        bad = [columns[j] for j in np.flatnonzero(chance)]
        raise ValueError(f"rogan_gladen_consensus: methods no better than chance on the rated items: {bad}")
    youden = (sens + spec - 1.0).T[None, :, :]                       # (1, methods, draws)
    prevalence = np.clip((apparent + spec.T[None, :, :] - 1.0) / np.where(youden > 0, youden, np.nan), 0.0, 1.0)
    # a resample where a method is no better than chance says nothing about prevalence through it
    prevalence = np.where(usable[:, :, None], prevalence, np.nan)
    corrected = prevalence * headcount[:, None, None]
    n_usable = usable.sum(axis=1)
    consensus = np.full((n_companies, n_draws), np.nan)
    has = n_usable > 0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing slices are expected and stay NaN
        consensus[has] = np.nanmedian(corrected[has], axis=1)
        quantiles = np.full((5, n_companies), np.nan)
        if has.any():
            quantiles[:, has] = np.nanquantile(consensus[has], [0.5, 0.1, 0.9, 0.05, 0.95], axis=1)
        per_method = np.full((n_companies, n_methods), np.nan)
        per_method[usable] = np.nanmedian(corrected, axis=2)[usable]
    out = pl.DataFrame({
        id_column: counts.get_column(id_column).cast(pl.Utf8),
        "estimate": quantiles[0], "lower80": quantiles[1], "upper80": quantiles[2],
        "lower90": quantiles[3], "upper90": quantiles[4], "n_methods": n_usable.astype(np.int64),
        **{f"corrected__{c}": per_method[:, j] for j, c in enumerate(columns)},
        "invalid_methods": [", ".join(columns[j] for j in np.flatnonzero(row)) or None for row in invalid],
    })
    return out.fill_nan(None)
