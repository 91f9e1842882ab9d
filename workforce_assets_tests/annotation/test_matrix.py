"""Annotation matrix: alignment by name, missing kept missing, precedence, coverage (6 and 22 annotators)."""

from __future__ import annotations

import polars as pl
import pytest

from workforce_assets.annotation.matrix import (
    combine_annotations,
    coverage,
    labelled_pairs,
    long_to_wide,
    wide_to_long,
)
from workforce_assets.annotation.names import canonical_annotator_name, parse_label


def _long(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"item_id": pl.Utf8, "annotator": pl.Utf8, "label": pl.Int8,
                                      "raw_label": pl.Utf8, "source": pl.Utf8}, orient="row")


def test_wide_aligns_by_name_and_keeps_missing():
    long = _long([("a", "llm_x", 1, None, "llm"), ("b", "llm_x", None, "ERROR", "llm"), ("b", "filter_y", 0, None,
                  "keyword_filter")])
    wide = long_to_wide(long, annotators=["filter_y", "LLM-X", "llm_never_seen"])
    assert wide.columns == ["item_id", "filter_y", "llm_x", "llm_never_seen"]
    assert wide.schema["llm_x"] == pl.Int8 and wide.schema["llm_never_seen"] == pl.Int8
    got = {r["item_id"]: r for r in wide.iter_rows(named=True)}
    assert got["a"] == {"item_id": "a", "filter_y": None, "llm_x": 1, "llm_never_seen": None}
    assert got["b"] == {"item_id": "b", "filter_y": 0, "llm_x": None, "llm_never_seen": None}
    # default columns: every annotator present, sorted by name
    assert long_to_wide(long).columns == ["item_id", "filter_y", "llm_x"]


def test_wide_refuses_duplicates_bad_labels_and_non_canonical_names():
    with pytest.raises(ValueError, match="more than once"):
        long_to_wide(_long([("a", "x", 1, None, "llm"), ("a", "x", 0, None, "imported")]))
    with pytest.raises(ValueError, match="neither 0, 1"):
        long_to_wide(_long([("a", "x", 2, None, "llm")]))
    with pytest.raises(ValueError, match="not canonical"):
        long_to_wide(_long([("a", "LLM-x", 1, None, "llm")]))
    with pytest.raises(ValueError, match="unknown annotation source"):
        long_to_wide(_long([("a", "x", 1, None, "guess")]))


def test_combine_precedence():
    imported = _long([("a", "f", 1, None, "imported"), ("b", "f", None, None, "imported"),
                      ("c", "f", None, None, "imported")])
    computed = _long([("a", "f", 0, None, "keyword_filter"), ("b", "f", 0, None, "keyword_filter"),
                      ("c", "f", None, None, "keyword_filter"), ("d", "f", 1, None, "keyword_filter")])
    combined = combine_annotations(imported, computed).sort("item_id")
    assert combined.rows() == [
        ("a", "f", 1, None, "imported"),  # imported wins over a recomputed label
        ("b", "f", 0, None, "keyword_filter"),  # a label wins over a missing import
        ("c", "f", None, None, "imported"),  # both missing: the import row stays
        ("d", "f", 1, None, "keyword_filter"),
    ]
    with pytest.raises(ValueError, match="conflicting"):
        combine_annotations(_long([("a", "f", 1, None, "imported")]), _long([("a", "f", 0, None, "imported")]))
    assert combine_annotations().height == 0
    with_file = combine_annotations(imported.with_columns(pl.lit("a.csv").alias("source_file")), computed)
    assert with_file.sort("item_id")["source_file"].to_list() == ["a.csv", None, "a.csv", None]
    # only labelled imported pairs are skipped by the LLM annotators; a missing import is asked again
    assert labelled_pairs(imported) == frozenset({("a", "f")})


def test_coverage_counts_absent_rows_as_missing_and_by_batch():
    long = _long([("a", "x", 1, None, "llm"), ("b", "x", 0, None, "llm"), ("c", "x", None, "ERROR", "llm"),
                  ("a", "y", 1, None, "llm")]).with_columns(
        pl.Series("batch", ["b1", "b1", "b2", "b1"]))
    overall = coverage(long.drop("batch"))
    assert overall.rows() == [("x", 3, 2, 1, 0.5), ("y", 3, 1, 2, 1.0)]
    per_batch = coverage(long, by="batch")
    assert per_batch.rows() == [("b1", "x", 2, 2, 0, 0.5), ("b1", "y", 2, 1, 1, 1.0),
                                ("b2", "x", 1, 0, 1, None), ("b2", "y", 1, 0, 1, None)]


def test_real_six_annotators_and_22_variants(shared_data):
    rated = pl.read_csv(shared_data / "annotations" / "validation_annotations.csv")
    six = [c for c in rated.columns if c.startswith(("llm_", "filter_"))]
    long6 = wide_to_long(rated.select("cv_id", *six), "imported", id_column="cv_id")
    wide6 = long_to_wide(long6, annotators=["llm_gemini_2_5_flash", "llm_sonnet_4", "llm_gpt_5_mini",
                                            "filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"])
    assert wide6.shape == (585, 7)
    assert wide6["llm_sonnet_4"].sum() == rated["llm_sonnet-4"].sum()

    variants = pl.read_csv(shared_data / "annotations" / "validation_llm_variants.csv", infer_schema_length=0)
    names = [c for c in variants.columns if c.startswith("prompt-")]
    assert len(names) == 22
    parsed = variants.select(
        "cv_id", *[pl.col(c).map_elements(parse_label, return_dtype=pl.Int8, skip_nulls=False) for c in names])
    long22 = wide_to_long(parsed, "imported", id_column="cv_id")
    wide22 = long_to_wide(long22)
    assert wide22.shape == (585, 23)
    cov = coverage(long22)
    assert cov.height == 22 and (cov["n_items"] == 585).all()
    # messy published values (ERROR, empty) are missing, not zeros
    raw_missing = variants.select(
        [pl.col(c).map_elements(parse_label, return_dtype=pl.Int8, skip_nulls=False).is_null().sum().alias(
            canonical_annotator_name(c)) for c in names]).row(0, named=True)
    assert dict(zip(cov["annotator"], cov["n_missing"])) == raw_missing
    assert sum(raw_missing.values()) > 0
