"""Loaders of the input contract: rated CVs, companies, profile batches (and annotations, re-exported).

Each returns a LoadResult: every input row is loaded or quarantined with a reason; a missing required
column raises ValueError naming the file and the columns.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from workforce_assets.annotation.names import parse_label

from .annotations import find_annotation_files, load_annotations
from .normalize import parse_count
from .result import LoadResult, empty_quarantine
from .tables import (
    ROW_NUMBER,
    TEXT_SUFFIXES,
    check_partition_key,
    duplicate_reasons,
    input_columns,
    quarantine_from,
    read_table,
    require_columns,
)

__all__ = ["load_rated_cvs", "load_companies", "discover_batches", "load_profiles", "load_annotations", "find_annotation_files",
           "load_company_counts"]

RATED_CV_COLUMNS = ["cv_id", "cv_text", "is_ml_expert"]
COMPANY_COLUMNS = ["company_id", "company_name", "headcount"]
PROFILE_COLUMNS = ["profile_id", "company_id", "profile_text"]


def parse_labels(column: str) -> pl.Expr:
    """``parse_label`` applied once per distinct value (not per row), as an Int8 expression."""
    return pl.col(column).map_batches(
        lambda values: _labels_of(values), return_dtype=pl.Int8
    )


def _labels_of(values: pl.Series) -> pl.Series:
    distinct = values.unique().drop_nulls().to_list()
    mapping = {value: parse_label(value) for value in distinct}
    return values.replace_strict(mapping, default=None, return_dtype=pl.Int8)


def _split(
    frame: pl.DataFrame,
    reason: pl.Expr,
    id_column: str,
    value_columns: list[str],
    source: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply row-level ``reason`` (null = valid), then duplicate-id reasons among the valid rows.

    Returns (loaded rows, quarantine rows).
    """
    frame = frame.with_columns(reason.alias("__reason"))
    invalid = frame.filter(pl.col("__reason").is_not_null())
    valid = frame.filter(pl.col("__reason").is_null())
    valid = valid.with_columns(duplicate_reasons(valid, id_column, value_columns))
    rejected = pl.concat([invalid, valid.filter(pl.col("__reason").is_not_null())]).sort(ROW_NUMBER)
    loaded = valid.filter(pl.col("__reason").is_null()).drop("__reason")
    quarantine = quarantine_from(rejected, source) if rejected.height else empty_quarantine()
    return loaded, quarantine


def _missing(column: str) -> pl.Expr:
    return pl.col(column).is_null()


def _reason(*cases: tuple[pl.Expr, str]) -> pl.Expr:
    """First matching (condition, reason) wins; null when none matches."""
    expression = pl.when(cases[0][0]).then(pl.lit(cases[0][1]))
    for condition, text in cases[1:]:
        expression = expression.when(condition).then(pl.lit(text))
    return expression.otherwise(pl.lit(None, dtype=pl.Utf8))


def load_rated_cvs(path: Path) -> LoadResult:
    """``rated_cvs.csv`` -> rows ``cv_id, cv_text, is_ml_expert (Int8 0/1)``; extra columns ignored (listed)."""
    path = Path(path)
    read = read_table(path)
    frame = read.frame
    require_columns(frame, RATED_CV_COLUMNS, path.name)
    frame = frame.with_columns(parse_labels("is_ml_expert").alias("__label"))
    reason = _reason(
        (_missing("cv_id"), "missing cv_id"),
        (_missing("is_ml_expert"), "missing is_ml_expert"),
        (pl.col("__label").is_null(), "unknown is_ml_expert value (expected 0/1, true/false, yes/no)"),
    )
    loaded, quarantine = _split(frame, reason, "cv_id", ["cv_text", "__label"], path.name)
    rows = loaded.select(
        pl.col("cv_id"),
        pl.col("cv_text").fill_null(""),
        pl.col("__label").alias("is_ml_expert"),
    )
    stats = {
        "n_read": frame.height,
        "n_loaded": rows.height,
        "n_quarantined": quarantine.height,
        "n_experts": int(rows["is_ml_expert"].sum() or 0),
        "n_empty_text": int((rows["cv_text"] == "").sum()),
        "ignored_columns": [c for c in input_columns(frame) if c not in RATED_CV_COLUMNS],
    }
    return read.merge(LoadResult(rows=rows, quarantine=quarantine, stats=stats))


def load_companies(path: Path) -> LoadResult:
    """``companies.csv`` -> ``company_id, company_name, headcount (Int64 >= 1), country, industry, segment``.

    ``segment`` (optional) groups similar companies: companies without a sample borrow their prior from the
    sampled companies of the same segment and similar size.

    A ``headquarters`` column stands in for ``country`` when there is no ``country`` column (the published
    comparator file has one); stats record which column was used.
    """
    path = Path(path)
    read = read_table(path)
    frame = read.frame
    require_columns(frame, COMPANY_COLUMNS, path.name)
    country_source = "country" if "country" in frame.columns else "headquarters" if "headquarters" in frame.columns else None
    frame = frame.with_columns(parse_count("headcount").alias("__headcount"))
    reason = _reason(
        (_missing("company_id"), "missing company_id"),
        (_missing("company_name"), "missing company_name"),
        (_missing("headcount"), "missing headcount"),
        (pl.col("__headcount").is_null(), "headcount is not a whole number"),
        (pl.col("__headcount") < 1, "headcount < 1"),
    )
    value_columns = ["company_name", "__headcount"] + [c for c in (country_source, "industry", "segment") if c in frame.columns]
    loaded, quarantine = _split(frame, reason, "company_id", value_columns, path.name)
    optional = {
        "country": pl.col(country_source) if country_source else pl.lit(None, dtype=pl.Utf8),
        "industry": pl.col("industry") if "industry" in frame.columns else pl.lit(None, dtype=pl.Utf8),
        "segment": pl.col("segment") if "segment" in frame.columns else pl.lit(None, dtype=pl.Utf8),
    }
    rows = loaded.select(
        pl.col("company_id"),
        pl.col("company_name"),
        pl.col("__headcount").alias("headcount"),
        optional["country"].alias("country"),
        optional["industry"].alias("industry"),
        optional["segment"].alias("segment"),
    )
    used = {*COMPANY_COLUMNS, "industry", "segment", country_source}
    stats = {
        "n_read": frame.height,
        "n_loaded": rows.height,
        "n_quarantined": quarantine.height,
        "country_column": country_source or "none",
        "ignored_columns": [c for c in input_columns(frame) if c not in used],
    }
    return read.merge(LoadResult(rows=rows, quarantine=quarantine, stats=stats))


def discover_batches(profiles_dir: Path) -> dict[str, Path]:
    """Profile batches by partition key (the file stem), sorted; a missing folder has none.

    Raises ValueError for two files with one stem, a stem that is not a safe partition key, a file type other
    than .csv / .jsonl, or a sub-folder (hidden files and folders are skipped), so no batch is silently ignored.
    """
    profiles_dir = Path(profiles_dir)
    if not profiles_dir.is_dir():
        return {}
    folders = sorted(p.name for p in profiles_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if folders:  # never skipped in silence: their batches would be missing from every total
        raise ValueError(f"profiles/: sub-folders are not read ({', '.join(f + '/' for f in folders)}); put each batch "
                         "file directly in profiles/")
    batches: dict[str, Path] = {}
    for path in sorted(p for p in profiles_dir.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.suffix.lower() not in TEXT_SUFFIXES:
            raise ValueError(f"profiles/{path.name}: unsupported file type (profile batches are .csv or .jsonl)")
        key = check_partition_key(path.stem, f"profiles/{path.name}: batch name")
        if key in batches:
            raise ValueError(
                f"profiles/: batch {key!r} is given twice ({batches[key].name} and {path.name}); keep one file per batch"
            )
        batches[key] = path
    return dict(sorted(batches.items()))


def load_profiles(path: Path, batch: str, known_company_ids: set[str] | None = None) -> LoadResult:
    """One batch file -> ``profile_id, company_id, batch, profile_text`` (empty text kept as '').

    Profiles of a company not in ``known_company_ids`` (when given) are quarantined.
    """
    path = Path(path)
    check_partition_key(batch, "batch")
    source = f"profiles/{path.name}"
    read = read_table(path)
    frame = read.frame
    require_columns(frame, PROFILE_COLUMNS, source)
    unknown_company = (
        pl.col("company_id").is_in(sorted(known_company_ids)).not_() if known_company_ids is not None else pl.lit(False)
    )
    reason = _reason(
        (_missing("profile_id"), "missing profile_id"),
        (_missing("company_id"), "missing company_id"),
        (unknown_company, "unknown company_id (not in companies)"),
    )
    loaded, quarantine = _split(frame, reason, "profile_id", ["company_id", "profile_text"], source)
    rows = loaded.select(
        pl.col("profile_id"),
        pl.col("company_id"),
        pl.lit(batch, dtype=pl.Utf8).alias("batch"),
        pl.col("profile_text").fill_null(""),
    )
    stats = {
        "n_read": frame.height,
        "n_loaded": rows.height,
        "n_quarantined": quarantine.height,
        "n_empty_text": int((rows["profile_text"] == "").sum()),
        "n_companies": rows["company_id"].n_unique(),
        "ignored_columns": [c for c in input_columns(frame) if c not in PROFILE_COLUMNS],
    }
    return read.merge(LoadResult(rows=rows, quarantine=quarantine, stats=stats), source=source)


COMPANY_COUNT_SUFFIXES = ("_sampled", "_rejected", "_accepted")


def load_company_counts(path: Path) -> LoadResult:
    """``company_counts.csv`` (optional): company-level counts, the log-debias estimator's own inputs.

    Columns: ``company_id``, ``headcount``; per keyword filter ``filter_<name>`` (matches of a company-wide
    keyword search); per LLM ``<llm>_sampled``, ``<llm>_rejected``, ``<llm>_accepted`` (employees the LLM
    screened, rejected, accepted). Empty cells are missing (not zero). A row with a missing company_id, a
    headcount that is not a whole number >= 0 (the published file has 30 companies with 0: the estimator does
    not use headcount), or a count that is not a non-negative number is quarantined.
    Rows: company_id, headcount and every count column as Float64.
    """
    path = Path(path)
    read = read_table(path)
    frame = read.frame
    require_columns(frame, ["company_id", "headcount"], path.name)
    filters = [c for c in input_columns(frame) if c.startswith("filter_")]
    llm_columns = [c for c in input_columns(frame) if c.endswith(COMPANY_COUNT_SUFFIXES) and not c.startswith("filter_")]
    if not filters and not llm_columns:
        raise ValueError(f"{path.name}: no count columns (filter_<name> or <llm>_sampled/_rejected/_accepted)")
    counts = filters + llm_columns
    frame = frame.with_columns(parse_count("headcount").alias("__headcount"),
                               *[pl.col(c).cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False).alias(f"__{c}")
                                 for c in counts])
    cases = [
        (_missing("company_id"), "missing company_id"),
        (pl.col("__headcount").is_null(), "headcount missing or not a whole number"),
        (pl.col("__headcount") < 0, "headcount < 0"),
    ]
    for c in counts:
        cases.append((pl.col(c).is_not_null() & (pl.col(c).cast(pl.Utf8).str.strip_chars() != "")
                      & pl.col(f"__{c}").is_null(), f"{c} is not a number"))
        cases.append((pl.col(f"__{c}") < 0, f"{c} is negative"))
    loaded, quarantine = _split(frame, _reason(*cases), "company_id", ["__headcount", *[f"__{c}" for c in counts]], path.name)
    rows = loaded.select(pl.col("company_id"), pl.col("__headcount").alias("headcount"),
                         *[pl.col(f"__{c}").alias(c) for c in counts])
    stats = {"n_read": frame.height, "n_loaded": rows.height, "n_quarantined": quarantine.height,
             "n_zero_headcount": int((rows["headcount"] == 0).sum()), "filter_columns": filters, "llm_columns": llm_columns,
             "ignored_columns": [c for c in input_columns(frame) if c not in {"company_id", "headcount", *counts}]}
    return read.merge(LoadResult(rows=rows, quarantine=quarantine, stats=stats))


UNLABELED_PROFILE_COLUMNS = ["cv_id", "cv_text"]


def load_unlabeled_profiles(path: Path) -> LoadResult:
    """Optional ``unlabeled_profiles.csv``: profile texts with neither a company nor a human label
    (``cv_id, cv_text``), used only by the profile clustering. Rows without an id, or with an id seen
    before, are quarantined."""
    path = Path(path)
    read = read_table(path)
    frame = read.frame
    require_columns(frame, UNLABELED_PROFILE_COLUMNS, path.name)
    reason = _reason((_missing("cv_id"), "missing cv_id"))
    loaded, quarantine = _split(frame, reason, "cv_id", ["cv_text"], path.name)
    rows = loaded.select(pl.col("cv_id"), pl.col("cv_text").fill_null(""))
    stats = {
        "n_read": frame.height, "n_loaded": rows.height, "n_quarantined": quarantine.height,
        "n_empty_text": int((rows["cv_text"] == "").sum()),
        "ignored_columns": [c for c in input_columns(frame) if c not in UNLABELED_PROFILE_COLUMNS],
    }
    return read.merge(LoadResult(rows=rows, quarantine=quarantine, stats=stats))


ORGANISATION_CATEGORY_COLUMNS = ["organisation", "category"]


def load_organisation_categories(path: Path, categories: tuple[str, ...]) -> LoadResult:
    """Optional ``organisation_categories.csv`` (``organisation, category``): the user's own categories,
    which override the name rules. A category outside ``categories`` or a missing organisation is quarantined."""
    path = Path(path)
    read = read_table(path)
    frame = read.frame
    require_columns(frame, ORGANISATION_CATEGORY_COLUMNS, path.name)
    reason = _reason(
        (_missing("organisation"), "missing organisation"),
        (~pl.col("category").fill_null("").is_in(list(categories)), f"category not one of {', '.join(categories)}"),
    )
    loaded, quarantine = _split(frame, reason, "organisation", ["category"], path.name)
    rows = loaded.select("organisation", "category")
    stats = {"n_read": frame.height, "n_loaded": rows.height, "n_quarantined": quarantine.height}
    return read.merge(LoadResult(rows=rows, quarantine=quarantine, stats=stats))
