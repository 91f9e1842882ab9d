"""Log-debias: the original consensus of several per-company count methods, and how to feed it from samples.

The original takes per-company counts from up to six methods (keyword-search counts over the whole
company, LLM accept counts), removes each method's typical multiplicative bias in log space and reports the
median. Its "80% interval" is the spread of the debiased methods, not a sampling interval; the calibrated
variant in :mod:`workforce_assets.headcount.calibrated_debias` is the one with coverage.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from workforce_assets.headcount.patterns import label_matrix, MISSING
from workforce_assets.annotation.names import canonical_annotator_name

FILTER_ZERO_REPLACEMENT = 0.5


def _method_matrix(counts: pl.DataFrame, methods: list[str]) -> np.ndarray:
    missing = [m for m in methods if m not in counts.columns]
    if missing:
        raise ValueError(f"log_debias: missing method columns {missing}")
    matrix = counts.select([pl.col(m).cast(pl.Float64) for m in methods]).to_numpy() if methods else np.empty((counts.height, 0))
    negative = np.nan_to_num(matrix, nan=0.0) < 0
    if negative.any():
        rows, cols = np.nonzero(negative)
        raise ValueError(f"log_debias: negative counts in {sorted({methods[c] for c in cols})}")
    return matrix


def log_debias(
    counts: pl.DataFrame,
    filter_methods: list[str],
    llm_methods: list[str],
    id_column: str = "company_id",
) -> pl.DataFrame:
    """The original log-debias estimator, exactly.

    LLM zeros become missing and filter zeros 0.5 (nulls stay missing); take logs; subtract each company's
    median across its methods; each method's bias is the median over companies of those residuals; subtract
    it; the estimate is exp of the company's median debiased log, and lower80 / upper80 are exp of the 10th /
    90th percentiles (linear interpolation) of its debiased logs. Returns ``id_column, estimate, lower80,
    upper80, n_methods``; the per-method biases come from :func:`method_biases`.
    Companies with no usable method keep their row with null estimate and n_methods 0.
    """
    debiased, _ = _debiased_logs(counts, filter_methods, llm_methods)
    usable = ~np.isnan(debiased)
    n_methods = usable.sum(axis=1)
    estimate = np.full(counts.height, np.nan)
    lower = np.full(counts.height, np.nan)
    upper = np.full(counts.height, np.nan)
    rows = n_methods > 0
    if rows.any():
        estimate[rows] = np.exp(np.nanmedian(debiased[rows], axis=1))
        lower[rows] = np.exp(np.nanquantile(debiased[rows], 0.10, axis=1, method="linear"))
        upper[rows] = np.exp(np.nanquantile(debiased[rows], 0.90, axis=1, method="linear"))
    return pl.DataFrame({
        id_column: counts.get_column(id_column).cast(pl.Utf8),
        "estimate": estimate, "lower80": lower, "upper80": upper, "n_methods": n_methods.astype(np.int64),
    }).with_columns(pl.col("estimate", "lower80", "upper80").fill_nan(None))


def method_biases(counts: pl.DataFrame, filter_methods: list[str], llm_methods: list[str]) -> dict[str, float]:
    """Each method's estimated log bias (median over companies of its residual from the company median)."""
    _, bias = _debiased_logs(counts, filter_methods, llm_methods)
    return dict(zip([*filter_methods, *llm_methods], bias.tolist()))


def _debiased_logs(counts: pl.DataFrame, filter_methods: list[str], llm_methods: list[str]) -> tuple[np.ndarray, np.ndarray]:
    overlap = set(filter_methods) & set(llm_methods)
    if overlap:
        raise ValueError(f"log_debias: methods listed as both filter and LLM: {sorted(overlap)}")
    if not filter_methods and not llm_methods:
        raise ValueError("log_debias: no methods given")
    filters = _method_matrix(counts, filter_methods)
    llms = _method_matrix(counts, llm_methods)
    filters = np.where(filters == 0, FILTER_ZERO_REPLACEMENT, filters)
    llms = np.where(llms == 0, np.nan, llms)
    logs = np.log(np.hstack([filters, llms]))
    has_any = (~np.isnan(logs)).any(axis=1)
    centre = np.full(logs.shape[0], np.nan)
    centre[has_any] = np.nanmedian(logs[has_any], axis=1)
    residual = logs - centre[:, None]
    has_method = (~np.isnan(residual)).any(axis=0)
    bias = np.full(logs.shape[1], np.nan)
    bias[has_method] = np.nanmedian(residual[:, has_method], axis=0)
    return logs - bias[None, :], bias


def method_counts_from_samples(
    samples: pl.DataFrame,
    companies: pl.DataFrame,
    annotators: list[str],
) -> pl.DataFrame:
    """Per company and annotator: the annotator's positive share among sampled employees x headcount.

    This is the count each method implies when only employee samples exist (the inputs log-debias expects).
    Output: company_id, headcount, n_sampled, and one Float64 column per annotator (canonical name); a
    company without samples (or an annotator without labels there) gets null, never zero.
    """
    canonical = [canonical_annotator_name(a) for a in annotators]
    labels = label_matrix(samples, canonical, "company samples")
    sample_ids = samples.get_column("company_id").cast(pl.Utf8)
    company_ids = companies.get_column("company_id").cast(pl.Utf8)
    unknown = sorted(set(sample_ids.to_list()) - set(company_ids.to_list()))
    if unknown:
        raise ValueError(f"samples: company_id(s) not in companies: {unknown[:10]}")
    frame = pl.DataFrame({"company_id": sample_ids}).with_columns(
        [pl.Series(name, np.where(labels[:, j] == MISSING, np.nan, labels[:, j]).astype(float)).fill_nan(None)
         for j, name in enumerate(canonical)]
    )
    shares = frame.group_by("company_id").agg(
        pl.len().alias("n_sampled"), *[pl.col(name).mean() for name in canonical]
    )
    joined = companies.select(pl.col("company_id").cast(pl.Utf8), pl.col("headcount").cast(pl.Int64)).join(
        shares, on="company_id", how="left", maintain_order="left"
    )
    return joined.with_columns(
        pl.col("n_sampled").fill_null(0).cast(pl.Int64),
        *[(pl.col(name) * pl.col("headcount")).alias(name) for name in canonical],
    )
