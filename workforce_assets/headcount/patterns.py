"""Annotation patterns as sufficient statistics.

Every estimator in this package works on *distinct annotation patterns* (one row per combination of
yes / no / missing over the annotators) and on counts of items per pattern, never on individual
employees: a company with 300,000 sampled employees and a company with 30 cost the same when they show
the same handful of patterns.

Annotators are matched by canonical name (``llm_gemini-2.5-flash`` == ``llm_gemini_2_5_flash``), never by
column position: the original method swapped the LLM and filter columns by aligning them by position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from workforce_assets.annotation.names import canonical_annotator_name

MISSING = -1


def resolve_annotator_columns(frame: pl.DataFrame, annotators: list[str], what: str) -> dict[str, str]:
    """Map each requested annotator (canonical name) to the frame's column of the same canonical name.

    Raises when a requested annotator is absent or when two columns of the frame share a canonical name,
    because silently falling back to positions is how the original mislabelled its columns.
    """
    by_canonical: dict[str, str] = {}
    for column in frame.columns:
        try:
            key = canonical_annotator_name(column)
        except ValueError:
            continue
        if key in by_canonical:
            raise ValueError(
                f"{what}: columns {by_canonical[key]!r} and {column!r} are the same annotator "
                f"({key!r}) after canonicalisation"
            )
        by_canonical[key] = column
    resolved: dict[str, str] = {}
    missing: list[str] = []
    for name in annotators:
        key = canonical_annotator_name(name)
        if key in resolved:
            raise ValueError(f"annotator {name!r} is listed twice (canonical name {key!r})")
        if key not in by_canonical:
            missing.append(name)
        else:
            resolved[key] = by_canonical[key]
    if missing:
        raise ValueError(
            f"{what}: no column for annotator(s) {missing} (matched by canonical name); "
            f"columns present: {frame.columns}"
        )
    return resolved


def label_matrix(frame: pl.DataFrame, annotators: list[str], what: str) -> np.ndarray:
    """(n_rows, n_annotators) int8 array of 0 / 1 with ``MISSING`` (-1) for null, columns in ``annotators`` order.

    Accepts integer, float or boolean columns holding 0/1/null; any other value is an error (the
    ingestion layer quarantines such rows before they reach this pure core).
    """
    columns = resolve_annotator_columns(frame, annotators, what)
    out = np.empty((frame.height, len(columns)), dtype=np.int8)
    for j, (name, column) in enumerate(columns.items()):
        series = frame.get_column(column)
        if series.dtype == pl.Boolean:
            series = series.cast(pl.Int8)
        if not series.dtype.is_numeric() and series.dtype != pl.Null:
            raise ValueError(f"{what}: annotator {name!r} column {column!r} has dtype {series.dtype}, expected 0/1/null")
        values = series.cast(pl.Float64).to_numpy()
        bad = ~np.isnan(values) & (values != 0) & (values != 1)
        if bad.any():
            examples = np.unique(values[bad])[:5].tolist()
            raise ValueError(f"{what}: annotator {name!r} has values other than 0/1/null: {examples}")
        out[:, j] = np.where(np.isnan(values), MISSING, values).astype(np.int8)
    return out


def binary_labels(frame: pl.DataFrame, column: str, what: str) -> np.ndarray:
    """The 0/1 truth column as int8; nulls or other values are an error (a rated CV must carry its label)."""
    if column not in frame.columns:
        raise ValueError(f"{what}: missing column {column!r}")
    values = frame.get_column(column).cast(pl.Float64).to_numpy()
    bad = np.isnan(values) | ((values != 0) & (values != 1))
    if bad.any():
        raise ValueError(f"{what}: {int(bad.sum())} row(s) with {column!r} not in {{0, 1}}")
    return values.astype(np.int8)


@dataclass(frozen=True)
class PatternData:
    """Distinct patterns with their counts among rated items (by class) and among company samples.

    patterns: (n_patterns, n_annotators) int8 with -1 = missing.
    rated_counts: (n_patterns, 2) counts of rated items per pattern, column k = true class k.
    company_ids: companies in output order; headcounts aligned with them.
    entry_company, entry_pattern, entry_count: one entry per (company, pattern) with at least one
    sampled employee, sorted by company - the sufficient statistics of the company samples.
    """

    annotators: list[str]
    patterns: np.ndarray
    rated_counts: np.ndarray
    company_ids: list[str]
    headcounts: np.ndarray
    entry_company: np.ndarray
    entry_pattern: np.ndarray
    entry_count: np.ndarray

    @property
    def n_companies(self) -> int:
        return len(self.company_ids)

    @property
    def n_sampled(self) -> np.ndarray:
        return np.bincount(self.entry_company, weights=self.entry_count, minlength=self.n_companies).astype(np.int64)

    def company_pattern_matrix(self) -> sparse.csr_matrix:
        """(n_companies, n_patterns) sparse counts of sampled employees per pattern."""
        return sparse.csr_matrix(
            (self.entry_count.astype(np.float64), (self.entry_company, self.entry_pattern)),
            shape=(self.n_companies, self.patterns.shape[0]),
        )

    def entry_to_company(self) -> sparse.csr_matrix:
        """(n_companies, n_entries) 0/1 matrix that sums per-entry quantities into per-company ones."""
        n_entries = self.entry_company.shape[0]
        return sparse.csr_matrix(
            (np.ones(n_entries), (self.entry_company, np.arange(n_entries))),
            shape=(self.n_companies, n_entries),
        )


def _distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if matrix.shape[0] == 0:
        return matrix.reshape(0, matrix.shape[1]), np.zeros(0, dtype=np.int64)
    unique, inverse = np.unique(matrix, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1).astype(np.int64)


def build_pattern_data(
    rated: pl.DataFrame,
    samples: pl.DataFrame,
    companies: pl.DataFrame,
    annotators: list[str],
    label_column: str = "is_ml_expert",
) -> PatternData:
    """Reduce rated items and company samples to distinct patterns and counts (see :class:`PatternData`).

    Company samples are first grouped by (company, pattern) in polars, so the cost after that depends on
    the number of distinct (company, pattern) pairs, not on the number of employees.
    """
    canonical = [canonical_annotator_name(a) for a in annotators]
    if not canonical:
        raise ValueError("at least one annotator is needed")
    rated_labels = label_matrix(rated, canonical, "rated items")
    truth = binary_labels(rated, label_column, "rated items")

    for column in ("company_id", "headcount"):
        if column not in companies.columns:
            raise ValueError(f"companies: missing column {column!r}")
    company_ids = companies.get_column("company_id").cast(pl.Utf8)
    if company_ids.null_count():
        raise ValueError("companies: null company_id")
    duplicated = company_ids.filter(company_ids.is_duplicated()).unique().to_list()
    if duplicated:
        raise ValueError(f"companies: duplicate company_id {duplicated[:10]}")
    headcount = companies.get_column("headcount").cast(pl.Float64).to_numpy()
    if np.isnan(headcount).any() or (headcount < 0).any() or (headcount != np.round(headcount)).any():
        bad = company_ids.filter(pl.Series(np.isnan(headcount) | (headcount < 0) | (headcount != np.round(headcount)))).to_list()
        raise ValueError(f"companies: headcount missing, negative or not whole for {bad[:10]}")

    if "company_id" not in samples.columns:
        raise ValueError("samples: missing column 'company_id'")
    sample_columns = resolve_annotator_columns(samples, canonical, "company samples")
    grouped = (
        samples.select(
            pl.col("company_id").cast(pl.Utf8),
            *[pl.col(column).alias(name) for name, column in sample_columns.items()],
        )
        .group_by(["company_id", *canonical])
        .len("count")
    )
    if grouped.get_column("company_id").null_count():
        raise ValueError("samples: null company_id")
    index_of = {cid: i for i, cid in enumerate(company_ids.to_list())}
    unknown = sorted(set(grouped.get_column("company_id").to_list()) - set(index_of))
    if unknown:
        raise ValueError(f"samples: company_id(s) not in companies: {unknown[:10]}")
    grouped_labels = label_matrix(grouped, canonical, "company samples")

    patterns, inverse = _distinct_rows(np.vstack([rated_labels, grouped_labels]))
    rated_pattern = inverse[: rated_labels.shape[0]]
    group_pattern = inverse[rated_labels.shape[0]:]
    rated_counts = np.zeros((patterns.shape[0], 2), dtype=np.float64)
    np.add.at(rated_counts, (rated_pattern, truth.astype(np.int64)), 1.0)

    entry_company = np.array([index_of[c] for c in grouped.get_column("company_id").to_list()], dtype=np.int64)
    entry_count = grouped.get_column("count").to_numpy().astype(np.int64)
    # two grouped rows can map to one pattern only if they differ in dtype spelling; merge to be safe
    key = entry_company * patterns.shape[0] + group_pattern
    order_key, position = np.unique(key, return_inverse=True)
    counts = np.bincount(position.reshape(-1), weights=entry_count, minlength=order_key.shape[0]).astype(np.int64)

    n_sampled = np.bincount(order_key // patterns.shape[0], weights=counts, minlength=len(index_of))
    too_many = n_sampled > headcount
    if too_many.any():
        bad = [f"{cid} (sampled {int(n)}, headcount {int(h)})" for cid, n, h in
               zip(np.array(company_ids.to_list())[too_many], n_sampled[too_many], headcount[too_many])]
        raise ValueError(f"companies: more sampled employees than headcount for {bad[:10]}")

    return PatternData(
        annotators=canonical,
        patterns=patterns,
        rated_counts=rated_counts,
        company_ids=company_ids.to_list(),
        headcounts=headcount.astype(np.int64),
        entry_company=(order_key // patterns.shape[0]).astype(np.int64),
        entry_pattern=(order_key % patterns.shape[0]).astype(np.int64),
        entry_count=counts,
    )
