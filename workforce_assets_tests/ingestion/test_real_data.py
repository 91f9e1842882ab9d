"""The real published files load with every row accounted for (counts taken independently of the loader)."""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest

from workforce_assets.ingestion.inputs import load_annotations, load_companies, load_rated_cvs
from workforce_assets.ingestion.jobs import JOB_SCHEMA, load_job_records
from workforce_assets.ingestion.normalize import CASE_STATUSES

H2_FILES = [
    "H-2A_Disclosure_Data_FY15_Q4.xlsx", "H-2A_Disclosure_Data_FY16_updated.xlsx", "H-2A_Disclosure_Data_FY17.xlsx",
    "H-2A_FY14_Q4.xlsx", "H-2B_Disclosure_Data_FY15_Q4.xlsx", "H-2B_Disclosure_Data_FY16.xlsx",
    "H-2B_Disclosure_Data_FY2018_EOY.xlsx", "H-2B_Disclosure_Data_FY2019.xlsx", "H-2B_FY14_Q4.xlsx", "H-2B_FY2017.xlsx",
]
H1B_FILE = "h1b_software_2012_2014.csv"


def xlsx_data_rows(path: Path) -> int:
    """Row elements of the first worksheet's XML, minus the header: a count that does not use the loader's reader."""
    with zipfile.ZipFile(path) as archive:
        sheet = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))[0]
        return len(re.findall(rb"<row[ >]", archive.read(sheet))) - 1


def csv_data_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


@pytest.fixture(scope="session")
def job_files(shared_data) -> list[Path]:
    return [shared_data / "jobs" / "dol_h2" / name for name in H2_FILES] + [shared_data / "jobs" / H1B_FILE]


@pytest.fixture(scope="session")
def real_jobs(job_files):
    """All eleven real job files, loaded once per test session (the xlsx files take a few seconds)."""
    return load_job_records(job_files)


@pytest.mark.parametrize("name", [*H2_FILES, H1B_FILE])
def test_every_row_of_each_real_job_file_is_accounted_for(real_jobs, job_files, name):
    path = next(p for p in job_files if p.name == name)
    expected = xlsx_data_rows(path) if path.suffix == ".xlsx" else csv_data_rows(path)
    stats = real_jobs.stats["files"][name]
    assert stats["n_read"] + stats.get("n_blank_lines", 0) == expected  # blank records are skipped and counted
    assert stats["n_read"] == stats["n_loaded"] + stats["n_quarantined"]
    assert real_jobs.rows.filter(pl.col("source_file") == name).height == stats["n_loaded"]
    assert real_jobs.quarantine.filter(pl.col("source") == f"jobs/{name}").height == stats["n_quarantined"]
    # only rows without employer or title may be quarantined, and rows the CSV parser cannot split: the
    # H-1B extract's last line is cut off after 5 of its 9 fields (polars filled the rest with nulls)
    reasons = set(real_jobs.quarantine.filter(pl.col("source") == f"jobs/{name}")["reason"])
    malformed = {r for r in reasons if r.startswith("line ")}
    assert reasons - malformed <= {"missing employer_name", "missing job_title", "missing employer_name and job_title"}
    assert malformed == ({"line 27270 has 5 fields, the header has 9"} if name == H1B_FILE else set())


def test_real_job_values_are_normalised(real_jobs):
    rows = real_jobs.rows
    assert rows.schema == pl.Schema(JOB_SCHEMA)
    assert set(real_jobs.stats["layouts"].values()) == {"h2", "lca_scraped"}
    assert set(rows["case_status"].unique()) <= set(CASE_STATUSES)
    assert set(rows["visa_class"].unique()) == {"H-1B", "H-2A", "H-2B"}
    assert rows["worksite_state"].str.len_chars().max() <= 3
    assert rows["employer_key"].null_count() == 0 and rows["fiscal_year"].null_count() == 0
    # H-2A FY2014..FY2017 and H-2B FY2014..FY2019 by file name
    h2_years = rows.filter(pl.col("visa_class") != "H-1B").group_by("visa_class").agg(pl.col("fiscal_year").unique().sort())
    assert dict(h2_years.rows()) == {"H-2A": [2014, 2015, 2016, 2017], "H-2B": [2014, 2015, 2016, 2017, 2018, 2019]}
    # the scraped H-1B file: about 1,200 hourly values inferred and flagged; about 2,200 exact duplicates marked
    h1b = rows.filter(pl.col("source_file") == H1B_FILE)
    assert 1_100 <= (h1b["wage_flag"] == "unit_inferred_hour").sum() <= 1_300
    assert 2_000 <= h1b["is_exact_duplicate"].sum() <= 2_400
    assert h1b.filter(pl.col("wage_unit") == "Hour")["annual_wage"].min() >= 0
    # workers are real counts where the layout has them
    assert rows.filter(pl.col("visa_class") != "H-1B")["workers"].null_count() < rows.height // 10


@pytest.fixture(scope="session")
def annotation_dir(shared_data) -> Path:
    return shared_data / "annotations"


def test_validation_annotations_as_rated_cvs(annotation_dir):
    result = load_rated_cvs(annotation_dir / "validation_annotations.csv")
    assert result.stats["n_read"] == result.stats["n_loaded"] == 585
    assert result.rows["is_ml_expert"].sum() == 153
    assert len(result.stats["ignored_columns"]) == 6


def test_comparator_companies(annotation_dir):
    result = load_companies(annotation_dir / "comparator_ml_companies.csv")
    assert result.rows.height == 18 and result.stats["n_quarantined"] == 0
    assert result.stats["country_column"] == "headquarters"
    assert result.rows["headcount"].min() >= 1
    assert result.rows.filter(pl.col("company_id") == "openai")["company_name"][0] == "OpenAI"


@pytest.mark.parametrize(
    ("name", "n_rows", "n_annotators", "context"),
    [
        ("validation_annotations.csv", 585, 6, ["cv_text", "is_ml_expert"]),
        ("validation_llm_variants.csv", 585, 22, ["cv_text", "is_ml_expert"]),
        ("comparator_ml_employee_annotations.csv", 11_205, 6, ["company_id"]),
    ],
)
def test_real_annotation_files_load_as_wide_form(annotation_dir, tmp_path, name, n_rows, n_annotators, context):
    shutil.copy(annotation_dir / name, tmp_path / name)
    result = load_annotations(tmp_path)
    stats = result.stats
    assert csv_data_rows(annotation_dir / name) == n_rows
    assert stats["files"][name]["form"] == "wide"
    assert stats["files"][name]["n_rows"] == n_rows
    assert stats["files"][name]["ignored_columns"] == context
    assert len(stats["annotators"]) == n_annotators
    assert stats["n_read"] == n_rows * n_annotators == stats["n_loaded"] + stats["n_quarantined"]
    assert stats["n_quarantined"] == 0
    assert result.rows.group_by("item_id").len()["len"].unique().to_list() == [n_annotators]
    per_annotator = stats["annotators"].values()
    assert sum(a["n_labels"] + a["n_missing"] + a["n_unparseable"] for a in per_annotator) == stats["n_loaded"]


def test_messy_llm_variant_values_are_counted(annotation_dir, tmp_path):
    shutil.copy(annotation_dir / "validation_llm_variants.csv", tmp_path / "variants.csv")
    result = load_annotations(tmp_path)
    raw = pl.read_csv(annotation_dir / "validation_llm_variants.csv", infer_schema=False)
    values = raw.drop("cv_id", "cv_text", "is_ml_expert").unpivot()["value"]
    stats = result.stats["annotators"]
    assert sum(a["n_unparseable"] for a in stats.values()) == (values.str.strip_chars() == "ERROR").sum()
    assert sum(a["n_missing"] for a in stats.values()) == values.is_null().sum()
    assert any("ERROR" in a["unparseable_examples"] for a in stats.values())
    # REJECT is a label (0), not a missing value
    rejects = result.rows.filter(pl.col("raw_label").str.to_uppercase() == "REJECT")
    assert rejects.height > 0 and rejects["label"].unique().to_list() == [0]


def test_all_real_annotation_files_together_do_not_collide(annotation_dir, tmp_path):
    for name in ("validation_annotations.csv", "validation_llm_variants.csv", "comparator_ml_employee_annotations.csv"):
        shutil.copy(annotation_dir / name, tmp_path / name)
    result = load_annotations(tmp_path)
    assert result.stats["n_read"] == 585 * 6 + 585 * 22 + 11_205 * 6 == result.stats["n_loaded"]
    assert result.stats["annotator_names"]["llm_gemini-2.5-flash"] == "llm_gemini_2_5_flash"
    assert result.rows.filter(pl.col("annotator") == "llm_gemini_2_5_flash")["source_file"].n_unique() == 2
