"""Annotation files in long and wide form: labels, missing values, duplicates, conflicts, errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from workforce_assets.ingestion.inputs import load_annotations


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def label_of(result, item: str, annotator: str):
    row = result.rows.filter((pl.col("item_id") == item) & (pl.col("annotator") == annotator))
    assert row.height == 1
    return row["label"][0]


def test_missing_folder_gives_an_empty_typed_result(tmp_path):
    result = load_annotations(tmp_path / "annotations")
    assert result.rows.height == 0
    assert result.rows.schema["label"] == pl.Int8
    assert result.stats["n_read"] == 0


def test_wide_form_labels_context_columns_and_names(tmp_path):
    text = (
        "cv_id,cv_text,is_ml_expert,LLM Gemini-2.5 Flash,filter_broad_yes\n"
        "007,text,1,ACCEPT,yes\n"
        "008,text,0,reject,0.0\n"
        "009,text,0,ERROR,\n"
    )
    result = load_annotations(write(tmp_path / "annotations" / "wide.csv", text).parent)
    assert result.rows.columns == ["item_id", "annotator", "label", "raw_label", "source_file", "source"]
    assert result.rows.height == 6
    assert label_of(result, "007", "llm_gemini_2_5_flash") == 1
    assert label_of(result, "008", "llm_gemini_2_5_flash") == 0
    assert label_of(result, "009", "llm_gemini_2_5_flash") is None
    assert label_of(result, "009", "filter_broad_yes") is None
    stats = result.stats
    assert stats["files"]["wide.csv"]["form"] == "wide"
    assert stats["files"]["wide.csv"]["ignored_columns"] == ["cv_text", "is_ml_expert"]
    assert stats["annotator_names"]["LLM Gemini-2.5 Flash"] == "llm_gemini_2_5_flash"
    gemini = stats["annotators"]["llm_gemini_2_5_flash"]
    assert (gemini["n_labels"], gemini["n_missing"], gemini["n_unparseable"]) == (2, 0, 1)
    assert gemini["unparseable_examples"] == ["ERROR"]
    assert stats["annotators"]["filter_broad_yes"]["n_missing"] == 1
    assert stats["n_read"] == stats["n_loaded"] == 6


def test_long_form_and_jsonl(tmp_path):
    folder = tmp_path / "annotations"
    write(folder / "long.csv", "item_id,annotator,label,comment\np1,human,TRUE,x\np2,human,no,\n")
    write(folder / "more.jsonl", json.dumps({"item_id": 3, "annotator": "human", "label": 1}) + "\n")
    result = load_annotations(folder)
    assert sorted(result.rows.select("item_id", "label").rows()) == [("3", 1), ("p1", 1), ("p2", 0)]
    assert result.stats["files"]["long.csv"]["form"] == "long"
    assert result.stats["files"]["long.csv"]["ignored_columns"] == ["comment"]


def test_repeats_and_conflicts_across_files_quarantine_the_later_record(tmp_path):
    folder = tmp_path / "annotations"
    write(folder / "a.csv", "item_id,annotator,label\nx,judge,1\ny,judge,0\n")
    write(folder / "b.csv", "profile_id,company_id,Judge\nx,acme,1\ny,acme,1\nz,acme,0\n")
    result = load_annotations(folder)
    assert label_of(result, "x", "judge") == 1
    assert label_of(result, "y", "judge") == 0  # the first file wins; the later conflicting label is quarantined
    assert label_of(result, "z", "judge") == 0
    quarantine = dict(zip(result.quarantine["row_number"].to_list(), result.quarantine["reason"].to_list()))
    assert quarantine[1] == "exact duplicate of row 1 (a.csv)"
    assert quarantine[2].startswith("conflicting label for the same item and annotator (kept 0 from a.csv row 2)")
    assert set(result.quarantine["source"]) == {"annotations/b.csv"}
    assert result.stats["n_exact_duplicates"] == 1 and result.stats["n_conflicts"] == 1
    assert result.stats["n_read"] == result.stats["n_loaded"] + result.stats["n_quarantined"] == 5


def test_missing_item_id_quarantines_each_label_of_the_row(tmp_path):
    text = "cv_id,a,b\nx,1,0\n,1,1\n"
    result = load_annotations(write(tmp_path / "annotations" / "w.csv", text).parent)
    assert result.rows.height == 2
    assert result.quarantine["reason"].to_list() == ["missing item_id", "missing item_id"]
    assert json.loads(result.quarantine["raw"][0]) == {"item_id": None, "annotator": "a", "raw_label": "1"}


def test_file_without_id_column_is_an_error(tmp_path):
    write(tmp_path / "annotations" / "bad.csv", "name,label\nx,1\n")
    with pytest.raises(ValueError, match=r"annotations/bad\.csv: missing required column"):
        load_annotations(tmp_path / "annotations")


def test_columns_that_canonicalise_to_one_name_are_an_error(tmp_path):
    write(tmp_path / "annotations" / "clash.csv", "cv_id,llm-a,llm_a\nx,1,0\n")
    with pytest.raises(ValueError, match="clash"):
        load_annotations(tmp_path / "annotations")


def test_wide_file_without_annotator_columns_is_an_error(tmp_path):
    write(tmp_path / "annotations" / "ctx.csv", "cv_id,cv_text,is_ml_expert\nx,t,1\n")
    with pytest.raises(ValueError, match="no annotator columns"):
        load_annotations(tmp_path / "annotations")


def test_unsupported_file_in_annotations_is_an_error(tmp_path):
    write(tmp_path / "annotations" / "labels.txt", "x")
    with pytest.raises(ValueError, match="unsupported file type"):
        load_annotations(tmp_path / "annotations")
