"""Precomputed annotator labels (``annotations/*.csv|*.jsonl``) in long or wide form -> one long table.

Long form has ``item_id, annotator, label``; wide form has one id column and one column per annotator.
Every label cell becomes one record, so ``n_read`` counts records (item x annotator), and each record is
loaded or quarantined (missing id, duplicate, conflicting label).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from workforce_assets.annotation.names import canonical_annotator_name, parse_label

from .result import LoadResult, empty_quarantine, quarantine_rows
from .tables import ROW_NUMBER, TEXT_SUFFIXES, input_columns, read_table

ANNOTATION_SCHEMA = {
    "item_id": pl.Utf8,
    "annotator": pl.Utf8,
    "label": pl.Int8,
    "raw_label": pl.Utf8,
    "source_file": pl.Utf8,
    "source": pl.Utf8,
}
LONG_FORM_COLUMNS = ("item_id", "annotator", "label")
ID_COLUMNS = ("item_id", "cv_id", "profile_id")
CONTEXT_COLUMNS = frozenset(
    {"cv_text", "profile_text", "text", "is_ml_expert", "company_id", "company_name", "batch", "headcount"}
)
"""Columns that describe the item, not an annotator's label: ignored (and listed in stats) in wide files."""

IMPORTED = "imported"
_EXAMPLES = 5


def _safe_canonical(name: str | None) -> str | None:
    try:
        return canonical_annotator_name(name) if name is not None else None
    except ValueError:
        return None


def _records_of_file(path: Path, file_index: int) -> tuple[pl.DataFrame, dict, pl.DataFrame]:
    """One file as records ``__file, __row, __pos, item_id, annotator_raw, raw_label``, its file stats and
    the rows that could not be parsed (quarantine rows)."""
    read = read_table(path)
    frame = read.frame
    columns = input_columns(frame)
    lower = {c.lower(): c for c in columns}
    if all(c in lower for c in LONG_FORM_COLUMNS):
        records = frame.select(
            pl.col(ROW_NUMBER).alias("__row"),
            pl.lit(0, dtype=pl.Int32).alias("__pos"),
            pl.col(lower["item_id"]).alias("item_id"),
            pl.col(lower["annotator"]).alias("annotator_raw"),
            pl.col(lower["label"]).alias("raw_label"),
        )
        ignored = [c for c in columns if c.lower() not in LONG_FORM_COLUMNS]
        file_stats = {"form": "long", "id_column": lower["item_id"], "annotator_columns": []}
    else:
        id_column = next((lower[c] for c in ID_COLUMNS if c in lower), None)
        if id_column is None:
            raise ValueError(
                f"annotations/{path.name}: missing required column(s): either long form {list(LONG_FORM_COLUMNS)} "
                f"or an id column (one of {list(ID_COLUMNS)}) plus one column per annotator; columns present: {columns}"
            )
        not_annotators = CONTEXT_COLUMNS | set(ID_COLUMNS)
        annotator_columns = [c for c in columns if c != id_column and c.lower() not in not_annotators]
        ignored = [c for c in columns if c != id_column and c not in annotator_columns]
        if not annotator_columns:
            raise ValueError(f"annotations/{path.name}: wide form with id column {id_column!r} has no annotator columns")
        canonical = [_safe_canonical(c) for c in annotator_columns]
        clashing = sorted({c for c in canonical if canonical.count(c) > 1 or c is None}, key=str)
        if clashing:
            raise ValueError(
                f"annotations/{path.name}: annotator columns {annotator_columns} do not give distinct names "
                f"(clash on {clashing}); rename them"
            )
        position = {name: index for index, name in enumerate(annotator_columns)}
        records = (
            frame.select(ROW_NUMBER, id_column, *annotator_columns)
            .unpivot(index=[ROW_NUMBER, id_column], on=annotator_columns, variable_name="annotator_raw", value_name="raw_label")
            .select(
                pl.col(ROW_NUMBER).alias("__row"),
                pl.col("annotator_raw").replace_strict(position, return_dtype=pl.Int32).alias("__pos"),
                pl.col(id_column).alias("item_id"),
                pl.col("annotator_raw"),
                pl.col("raw_label"),
            )
        )
        file_stats = {"form": "wide", "id_column": id_column, "annotator_columns": annotator_columns}
    file_stats |= {"n_rows": frame.height, "n_records": records.height, "ignored_columns": ignored, **read.stats}
    records = records.with_columns(
        pl.lit(file_index, dtype=pl.Int32).alias("__file"), pl.lit(path.name).alias("source_file")
    )
    rejects = read.rejects.with_columns(source=pl.lit(f"annotations/{path.name}"))
    return records, file_stats, rejects


def find_annotation_files(annotations_dir: Path) -> list[Path]:
    """``*.csv`` / ``*.jsonl`` in name order; another file type is an error (hidden files are skipped)."""
    annotations_dir = Path(annotations_dir)
    if not annotations_dir.is_dir():
        return []
    files = sorted(p for p in annotations_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    unsupported = [p.name for p in files if p.suffix.lower() not in TEXT_SUFFIXES]
    if unsupported:
        raise ValueError(f"annotations/: unsupported file type(s) {unsupported} (use .csv or .jsonl)")
    return files


def _with_labels(records: pl.DataFrame) -> pl.DataFrame:
    """Canonical annotator and parsed label, computed once per distinct raw value."""
    names = {n: _safe_canonical(n) for n in records["annotator_raw"].unique().drop_nulls().to_list()}
    labels = {v: parse_label(v) for v in records["raw_label"].unique().drop_nulls().to_list()}
    return records.with_columns(
        pl.col("annotator_raw").replace_strict(names, default=None, return_dtype=pl.Utf8).alias("annotator"),
        pl.col("raw_label").replace_strict(labels, default=None, return_dtype=pl.Int8).alias("label"),
    )


def _reasons(records: pl.DataFrame) -> pl.DataFrame:
    """Quarantine reason per record (null = load): missing id/annotator, then repeats of (item, annotator).

    The first record of a key (file order, row, column) is kept; a later one with the same label is an
    exact duplicate, with a different label a conflict.
    """
    records = records.sort("__file", "__row", "__pos").with_row_index("__seq")
    invalid = (
        pl.when(pl.col("item_id").is_null())
        .then(pl.lit("missing item_id"))
        .when(pl.col("annotator").is_null())
        .then(pl.lit("missing annotator name"))
    )
    records = records.with_columns(invalid.alias("__reason"))
    valid = records.filter(pl.col("__reason").is_null())
    key = ["item_id", "annotator"]
    first = pl.col("__seq").min().over(key)
    first_same = pl.col("__seq").min().over([*key, "label"])
    kept_file = pl.col("source_file").first().over(key, order_by="__seq")
    kept_row = pl.col("__row").first().over(key, order_by="__seq")
    kept_label = pl.col("label").first().over(key, order_by="__seq").cast(pl.Utf8).fill_null("missing")
    valid = valid.with_columns(
        pl.when(pl.col("__seq") == first)
        .then(None)
        .when(first_same == first)
        .then(pl.format("exact duplicate of row {} ({})", kept_row, kept_file))
        .otherwise(pl.format("conflicting label for the same item and annotator (kept {} from {} row {})",
                             kept_label, kept_file, kept_row))
        .alias("__reason")
    )
    return pl.concat([records.filter(pl.col("__reason").is_not_null()), valid]).sort("__seq")


def _annotator_stats(loaded: pl.DataFrame) -> dict:
    summary = loaded.group_by("annotator").agg(
        pl.col("label").is_not_null().sum().alias("n_labels"),
        pl.col("raw_label").is_null().sum().alias("n_missing"),
        (pl.col("raw_label").is_not_null() & pl.col("label").is_null()).sum().alias("n_unparseable"),
        pl.col("raw_label").filter(pl.col("label").is_null()).drop_nulls().unique(maintain_order=True)
        .head(_EXAMPLES).alias("unparseable_examples"),
    ).sort("annotator")
    return {row.pop("annotator"): row for row in summary.to_dicts()}


def load_annotations(annotations_dir: Path) -> LoadResult:
    """All annotation files -> long form ``item_id, annotator, label (Int8), raw_label, source_file, source``.

    Missing folder -> empty result. Labels go through ``parse_label``; anything else is a missing label
    (kept as a row with null ``label`` and its ``raw_label``, counted per annotator).
    """
    files = find_annotation_files(annotations_dir)
    if not files:
        return LoadResult(rows=pl.DataFrame(schema=ANNOTATION_SCHEMA), stats={"n_read": 0, "n_loaded": 0,
                                                                          "n_quarantined": 0, "files": {}})
    parts, file_stats, unparsable = [], {}, []
    for index, path in enumerate(files):
        records, stats, rejects = _records_of_file(path, index)
        parts.append(records)
        file_stats[path.name] = stats
        unparsable.append(rejects)
    records = _reasons(_with_labels(pl.concat(parts)))
    rejected = records.filter(pl.col("__reason").is_not_null())
    loaded = records.filter(pl.col("__reason").is_null())
    rows = loaded.select(
        "item_id", "annotator", "label", "raw_label", "source_file", pl.lit(IMPORTED).alias("source")
    ).cast(ANNOTATION_SCHEMA)
    quarantine = (
        pl.concat(
            [
                quarantine_rows(
                    f"annotations/{name}",
                    group["__row"].to_list(),
                    group["__reason"].to_list(),
                    group.select("item_id", pl.col("annotator_raw").alias("annotator"), "raw_label").to_dicts(),
                )
                for (name,), group in rejected.group_by("source_file", maintain_order=True)
            ]
        )
        if rejected.height
        else empty_quarantine()
    )
    quarantine = pl.concat([*unparsable, quarantine])  # rows that could not be parsed come first
    reasons = rejected["__reason"]
    name_map = (
        records.select("annotator_raw", "annotator").unique().drop_nulls().sort("annotator_raw").rows()
    )
    n_unparsable = sum(r.height for r in unparsable)
    stats = {
        "n_read": records.height + n_unparsable,
        "n_loaded": rows.height,
        "n_quarantined": quarantine.height,
        "n_malformed_rows": n_unparsable,
        "n_blank_lines": sum(s.get("n_blank_lines", 0) for s in file_stats.values()),
        "n_file_rows": sum(s["n_rows"] for s in file_stats.values()),
        "n_exact_duplicates": int(reasons.str.starts_with("exact duplicate").sum()),
        "n_conflicts": int(reasons.str.starts_with("conflicting").sum()),
        "n_labels": int(rows["label"].is_not_null().sum()),
        "n_missing_labels": int(rows["label"].is_null().sum()),
        "annotator_names": dict(name_map),
        "annotators": _annotator_stats(loaded),
        "files": file_stats,
    }
    return LoadResult(rows=rows, quarantine=quarantine, stats=stats)
