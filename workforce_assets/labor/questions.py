"""Questions users ask of the archetype matrix: how big is a market, and what is a company missing.

* ``market_size``: companies that list an archetype, plus the expected number that have it unlisted
  (sum of existence probabilities over the other companies), with an interval. The interval treats the
  probabilities as independent Bernoulli chances (Poisson-binomial: normal approximation, Poisson for
  small totals); it covers sampling noise given the model, not the model's own error, and the
  probabilities are calibrated under the masking protocol (see ``existence``), so read the expected part
  as "how many more companies look like they file this archetype", not as a census.
* ``peer_gaps``: archetypes common at the company's most similar companies (cosine similarity of
  archetype sets) that the company does not list, with the model's probability when a model is given.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from workforce_assets.labor.existence import (
    ExistenceModel,
    FeatureContext,
    iter_scored_chunks,
    score_context,
    score_full_matrix,
)
from workforce_assets.labor.matrix import split_archetype, to_sparse


def _interval(observed: np.ndarray, expected: np.ndarray, variance: np.ndarray, level: float):
    """Poisson-binomial interval of observed + unlisted companies (normal, or Poisson when variance < 10)."""
    z = stats.norm.ppf(0.5 + level / 2)
    normal_low = np.floor(expected - z * np.sqrt(variance))
    normal_high = np.ceil(expected + z * np.sqrt(variance))
    poisson_low = stats.poisson.ppf((1 - level) / 2, expected)
    poisson_high = stats.poisson.ppf(0.5 + level / 2, expected)
    small = variance < 10
    low = np.where(small, poisson_low, normal_low)
    high = np.where(small, poisson_high, normal_high)
    return observed + np.maximum(low, 0), observed + np.maximum(high, 0)


def market_sizes(
    model: ExistenceModel,
    matrix: pl.DataFrame,
    archetypes: list[str] | None = None,
    level: float = 0.9,
    chunk_companies: int | None = None,
) -> pl.DataFrame:
    """Market size of every archetype (or the given ones): observed + expected unlisted companies, with interval.

    Columns: archetype, role, seniority, state, observed_companies, expected_unlisted, expected_total,
    lower, upper, level. One pass over the full matrix in chunks (sums of p and p(1-p) per archetype).
    """
    labels = to_sparse(matrix)
    if archetypes is not None:
        unknown = sorted(set(archetypes) - set(labels.archetypes.tolist()))
        if unknown:
            raise ValueError(f"archetypes not in the matrix: {unknown[:5]}{' ...' if len(unknown) > 5 else ''}")
    context = FeatureContext.from_observed(labels, labels.observed)
    sums = _MarketSums(labels.shape[1])
    for rows, prob in iter_scored_chunks(model, context, chunk_companies):
        sums.add(rows, prob)
    return sums.frame(context, level, archetypes)


class _MarketSums:
    """Per archetype, the sums of p and p(1 - p) over the unlisted cells, accumulated chunk by chunk."""

    def __init__(self, n_archetypes: int):
        self.expected = np.zeros(n_archetypes)
        self.variance = np.zeros(n_archetypes)

    def add(self, rows: np.ndarray, prob: np.ndarray) -> None:
        p = np.where(np.isfinite(prob), np.clip(prob, 0.0, 1.0), 0.0)
        self.expected += p.sum(axis=0)
        self.variance += (p * (1.0 - p)).sum(axis=0)

    def frame(self, context: FeatureContext, level: float, archetypes: list[str] | None = None) -> pl.DataFrame:
        labels = context.labels
        observed = context.popularity.astype(np.float64)
        lower, upper = _interval(observed, self.expected, self.variance, level)
        frame = pl.DataFrame(
            {
                "archetype": labels.archetypes,
                "observed_companies": observed.astype(np.int64),
                "expected_unlisted": self.expected,
                "expected_total": observed + self.expected,
                "lower": lower,
                "upper": upper,
                "level": np.full(labels.shape[1], level),
            }
        )
        frame = frame.with_columns(split_archetype(pl.col("archetype")).alias("_p")).unnest("_p")
        if archetypes is not None:
            frame = frame.filter(pl.col("archetype").is_in(archetypes))
        return frame.select("archetype", "role", "seniority", "state", "observed_companies", "expected_unlisted",
                            "expected_total", "lower", "upper", "level").sort("expected_total", descending=True)


def score_and_size(
    model: ExistenceModel, matrix: pl.DataFrame, top_k: int = 20, threshold: float = 0.5, level: float = 0.9,
    chunk_companies: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``existence.score_full_matrix`` and :func:`market_sizes` from one pass over the grid (scoring every
    company x archetype cell is the expensive part of both): (top_k, above_threshold, market sizes), each
    equal to what the two functions return alone."""
    if matrix.height == 0:
        top, above = score_full_matrix(model, matrix, top_k=top_k, threshold=threshold)
        return top, above, market_sizes(model, matrix, level=level)
    labels = to_sparse(matrix)
    context = FeatureContext.from_observed(labels, labels.observed)
    sums = _MarketSums(labels.shape[1])
    top, above = score_context(model, context, top_k=top_k, threshold=threshold, chunk_companies=chunk_companies,
                               on_chunk=sums.add)
    return top, above, sums.frame(context, level)


def market_size(model: ExistenceModel, matrix: pl.DataFrame, archetype: str, level: float = 0.9) -> dict:
    """Market size of one archetype (scores only its column, not the whole grid)."""
    labels = to_sparse(matrix)
    where = np.flatnonzero(labels.archetypes == archetype)
    if len(where) == 0:
        raise ValueError(f"archetype {archetype!r} is not in the matrix")
    col = int(where[0])
    context = FeatureContext.from_observed(labels, labels.observed)
    listed = labels.observed[:, col].toarray().ravel() > 0
    rows = np.flatnonzero(~listed)
    p = np.clip(model.score_cells(context, rows, np.full(len(rows), col)), 0.0, 1.0)
    expected, variance = float(p.sum()), float((p * (1 - p)).sum())
    lower, upper = _interval(np.array([listed.sum()], float), np.array([expected]), np.array([variance]), level)
    return {
        "archetype": archetype,
        "observed_companies": int(listed.sum()),
        "expected_unlisted": expected,
        "expected_total": float(listed.sum()) + expected,
        "lower": float(lower[0]),
        "upper": float(upper[0]),
        "level": level,
    }


def peer_gaps(
    matrix: pl.DataFrame,
    company_ids: str | list[str],
    n_peers: int = 25,
    top: int = 10,
    model: ExistenceModel | None = None,
) -> pl.DataFrame:
    """Archetypes common among each company's ``n_peers`` most similar companies that it does not list.

    ``company_ids``: one company or several; the sparse matrix and the model's features are built once for all
    of them (the asset asks for 50 companies; building them per company was most of its time).
    Columns: company_id, archetype, role, seniority, state, peer_share (share of peers listing it),
    n_peers, and probability (existence model) when ``model`` is given. Sorted by company (in the order given),
    then peer share.
    """
    wanted = [company_ids] if isinstance(company_ids, str) else list(company_ids)
    schema = {"company_id": pl.Utf8, "archetype": pl.Utf8, "role": pl.Utf8, "seniority": pl.Utf8, "state": pl.Utf8,
              "peer_share": pl.Float64, "n_peers": pl.Int64, "probability": pl.Float64}
    labels = to_sparse(matrix)
    position = {c: i for i, c in enumerate(labels.companies.tolist())}
    unknown = [c for c in wanted if c not in position]
    if unknown:
        raise ValueError(f"company {unknown[0]!r} is not in the matrix" + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
    observed = labels.observed
    sizes = np.asarray(observed.sum(axis=1)).ravel()
    context = FeatureContext.from_observed(labels, observed) if model is not None and wanted else None
    frames = []
    for company_id in wanted:
        row = position[company_id]
        overlap = np.asarray((observed @ observed[row].T).todense()).ravel()
        similarity = overlap / np.sqrt(np.maximum(sizes, 1.0) * max(sizes[row], 1.0))
        similarity[row] = 0.0
        candidates = np.flatnonzero(similarity > 0)
        peers = candidates[np.argsort(-similarity[candidates], kind="stable")[:n_peers]]
        if len(peers) == 0:
            continue
        share = np.asarray(observed[peers].sum(axis=0)).ravel() / len(peers)
        share[observed[row].indices] = 0.0
        gap_cols = np.flatnonzero(share > 0)
        gap_cols = gap_cols[np.argsort(-share[gap_cols], kind="stable")[:top]]
        if context is not None and len(gap_cols):
            probability = model.score_cells(context, np.full(len(gap_cols), row), gap_cols)
        else:
            probability = np.full(len(gap_cols), np.nan)
        frames.append(pl.DataFrame({
            "company_id": [company_id] * len(gap_cols),
            "archetype": labels.archetypes[gap_cols],
            "peer_share": share[gap_cols],
            "n_peers": [len(peers)] * len(gap_cols),
            "probability": np.asarray(probability, dtype=np.float64),
        }))
    if not frames:
        return pl.DataFrame(schema=schema)
    frame = pl.concat(frames).with_columns(split_archetype(pl.col("archetype")).alias("_p")).unnest("_p")
    return frame.select(list(schema)).cast(schema)
