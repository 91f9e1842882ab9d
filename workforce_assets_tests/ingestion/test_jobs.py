"""Job files: every recognised layout on small files, the unrecognised-layout error, quarantine and flags."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from workforce_assets.ingestion.jobs import JOB_SCHEMA, find_job_files, load_job_records


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame([[None if v is None else str(v) for v in row] for row in rows], schema=header, orient="row")
    frame.write_csv(path)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def assert_accounted(result) -> None:
    stats = result.stats
    assert stats["n_read"] == stats["n_loaded"] + stats["n_quarantined"]
    assert result.rows.height == stats["n_loaded"] and result.quarantine.height == stats["n_quarantined"]


def test_lca_fy2020_layout(tmp_path):
    header = ["CASE_NUMBER", "CASE_STATUS", "VISA_CLASS", "JOB_TITLE", "SOC_CODE", "SOC_TITLE", "EMPLOYER_NAME",
              "WORKSITE_STATE", "WAGE_RATE_OF_PAY_FROM", "WAGE_UNIT_OF_PAY", "TOTAL_WORKER_POSITIONS", "DECISION_DATE"]
    rows = [
        ["I-1", "Certified", "H-1B", "Data Scientist", "15-2051", "Data Scientists", "Acme, Inc.", "California",
         "$120,000.00", "Year", "2", "2020-11-02"],
        ["I-2", "CERTIFIED - WITHDRAWN", "E-3 Australian", "ML Engineer", "15-1252", "Software Developers",
         "acme inc", "tx", "60", "Hour", "1", "2021-03-01"],
    ]
    result = load_job_records([write_csv(tmp_path / "LCA_Disclosure_Data_FY2021_Q1.csv", header, rows)])
    assert result.rows.schema == pl.Schema(JOB_SCHEMA)
    assert result.stats["layouts"] == {"LCA_Disclosure_Data_FY2021_Q1.csv": "lca"}
    first, second = result.rows.to_dicts()
    assert first["employer_name"] == "ACME, INC." and first["employer_key"] == second["employer_key"] == "ACME"
    assert (first["worksite_state"], first["wage_rate"], first["annual_wage"], first["workers"]) == ("CA", 120000.0, 120000.0, 2)
    assert (second["annual_wage"], second["case_status"], second["visa_class"]) == (124800.0, "certified_withdrawn", "unknown")
    assert first["fiscal_year"] == second["fiscal_year"] == 2021  # from the file name
    assert (first["source_file"], first["row_number"], second["row_number"]) == ("LCA_Disclosure_Data_FY2021_Q1.csv", 1, 2)
    assert_accounted(result)


def test_lca_prevailing_wage_level_is_loaded_and_sets_seniority(tmp_path):
    from workforce_assets.labor.roles import add_role_and_seniority

    header = ["CASE_STATUS", "JOB_TITLE", "SOC_CODE", "EMPLOYER_NAME", "WORKSITE_STATE", "WAGE_RATE_OF_PAY_FROM",
              "WAGE_UNIT_OF_PAY", "PW_WAGE_LEVEL"]
    rows = [["Certified", "Physical Therapist", "29-1123", "Clinic A", "NY", "90000", "Year", "Level III"],
            ["Certified", "Physician", "29-1215", "Clinic B", "NY", "200000", "Year", "I"],
            ["Certified", "Pharmacist", "29-1051", "Clinic C", "NY", "120000", "Year", ""]]
    result = load_job_records([write_csv(tmp_path / "LCA_Disclosure_Data_FY2025_Q1.csv", header, rows)])
    assert result.rows["wage_level"].to_list() == ["III", "I", None]
    out = add_role_and_seniority(result.rows)
    assert out["seniority"].to_list() == ["senior", "junior", "unknown"]
    assert out["seniority_source"].to_list() == ["wage_level", "wage_level", "none"]
    assert_accounted(result)


def test_old_lca_layout_and_fiscal_year_from_decision_date(tmp_path):
    header = ["LCA_CASE_NUMBER", "STATUS", "LCA_CASE_EMPLOYER_NAME", "LCA_CASE_JOB_TITLE", "LCA_CASE_SOC_CODE",
              "LCA_CASE_SOC_NAME", "LCA_CASE_WAGE_RATE_FROM", "LCA_CASE_WAGE_RATE_UNIT", "LCA_CASE_WORKLOC1_STATE",
              "TOTAL_WORKERS", "DECISION_DATE"]
    rows = [["I-9", "DENIED", "Foo LLC", "Analyst", "15-1121", "Analysts", "5000", "Month", "NY", "3", "2012-10-15"]]
    result = load_job_records([write_csv(tmp_path / "h1b_2013.csv", header, rows)])
    row = result.rows.row(0, named=True)
    assert result.stats["layouts"]["h1b_2013.csv"] == "lca_fy2008_2014"
    assert (row["annual_wage"], row["case_status"], row["visa_class"], row["fiscal_year"]) == (60000.0, "denied", "H-1B", 2013)


def test_perm_layout(tmp_path):
    header = ["CASE_NUMBER", "CASE_STATUS", "EMPLOYER_NAME", "JOB_INFO_JOB_TITLE", "PW_SOC_CODE", "PW_SOC_TITLE",
              "JOB_INFO_WORK_STATE", "WAGE_OFFER_FROM_9089", "WAGE_OFFER_UNIT_OF_PAY_9089"]
    rows = [["A-1", "Certified-Expired", "Bar Corporation", "Chemist", "19-2031", "Chemists", "NEW JERSEY", "95000", "yr"]]
    result = load_job_records([write_csv(tmp_path / "PERM_FY2016.csv", header, rows)])
    row = result.rows.row(0, named=True)
    assert result.stats["layouts"]["PERM_FY2016.csv"] == "perm"
    assert (row["employer_key"], row["worksite_state"], row["wage_unit"], row["annual_wage"]) == ("BAR", "NJ", "Year", 95000.0)
    assert (row["visa_class"], row["case_status"], row["workers"], row["fiscal_year"]) == ("PERM", "certified", None, 2016)


def test_normalized_layout(tmp_path):
    header = ["employer_name", "job_title", "worksite_state", "wage_rate", "wage_unit", "workers", "fiscal_year",
              "visa_class"]
    rows = [["Baz Co", "Cook", "Guam", "500", "Week", "4", "2022", "H-2B"],
            ["", "Cook", "Guam", "500", "Week", "4", "2022", "H-2B"]]
    result = load_job_records([write_csv(tmp_path / "jobs.csv", header, rows)])
    assert json.loads(result.quarantine["raw"][0]) == dict(zip(header, [None, "Cook", "Guam", "500", "Week", "4", "2022",
                                                                        "H-2B"]))
    assert result.stats["files"]["jobs.csv"]["columns_used"]["wage_rate"] == "wage_rate"
    row = result.rows.row(0, named=True)
    assert result.stats["layouts"]["jobs.csv"] == "normalized"
    assert (row["worksite_state"], row["annual_wage"], row["workers"], row["fiscal_year"], row["visa_class"]) == (
        "GU", 26000.0, 4, 2022, "H-2B")
    # no status column (optional in the contract): status unknown, counted, used by the models
    assert row["case_status"] == "unknown" and row["case_status_raw"] is None
    assert result.stats["n_status_unknown"] == 1


def test_h2_xlsx_without_state_column_and_wage_problems_still_load(tmp_path):
    header = ["CASE_NUMBER", "CASE_STATUS", "EMPLOYER_NAME", "JOB_TITLE", "SOC_CODE", "SOC_NAME",
              "NBR_WORKERS_CERTIFIED", "BASIC_RATE_OF_PAY", "PAY_RANGE_UNIT"]
    rows = [
        ["H-1", "Certification", "Farm A", "Picker", "45-2092", "Farmworkers", 10, 11.5, "Hour"],
        ["H-2", "Partial Certification", "Farm B", "Packer", "45-2092", "Farmworkers", 5, "#################", "Hour"],
        ["H-3", "Denied", "Farm C", "Picker", "45-2092", "Farmworkers", None, 0.35, "Piece Rate"],
        ["H-4", "Withdrawn", "Farm D", "Herder", "45-2093", "Farmworkers", 1, 1500, "Select Pay Range"],
        ["H-5", "Certification", "Farm E", "Herder", "45-2093", "Farmworkers", 1, None, "Month"],
        ["H-6", "Certification", None, "Picker", "45-2092", "Farmworkers", 1, 11, "Hour"],
        ["H-7", "Certification", "Farm F", None, "45-2092", "Farmworkers", 1, 11, "Hour"],
        ["H-1", "Certification", "Farm A", "Picker", "45-2092", "Farmworkers", 10, 11.5, "Hour"],
    ]
    result = load_job_records([write_xlsx(tmp_path / "H-2B_FY2017.xlsx", header, rows)])
    rows_out = result.rows
    assert rows_out["worksite_state"].to_list() == ["UNK"] * 6
    assert rows_out["visa_class"].unique().to_list() == ["H-2B"]  # no visa column: from the file name
    assert rows_out["fiscal_year"].unique().to_list() == [2017]
    assert rows_out["wage_flag"].to_list() == [None, "unparseable_wage", "unit_not_annualisable",
                                               "unit_not_annualisable", "missing_wage", None]
    assert rows_out["annual_wage"].to_list() == [23920.0, None, None, None, None, 23920.0]
    assert rows_out["is_exact_duplicate"].to_list() == [False, False, False, False, False, True]
    assert rows_out["row_number"].to_list() == [1, 2, 3, 4, 5, 8]
    assert result.quarantine["reason"].to_list() == ["missing employer_name", "missing job_title"]
    assert json.loads(result.quarantine["raw"][0])["CASE_NUMBER"] == "H-6"
    stats = result.stats
    assert (stats["n_unknown_state"], stats["n_missing_wage"], stats["n_wage_flagged"], stats["n_exact_duplicates"]) == (
        6, 4, 4, 1)
    assert "no worksite state column" in stats["files"]["H-2B_FY2017.xlsx"]["notes"][-1]
    assert_accounted(result)


def test_scraped_lca_infers_unit_by_magnitude(tmp_path):
    header = ["employer", "submit date", "start date", "case status", "job title", "base salary", "salary to", "city",
              "state"]
    rows = [
        ["a inc", "10/1/2013", "", "certified", "software engineer", "45", "", "x", "wa"],
        ["b inc", "3/1/2013", "", "certified", "software engineer", "1442.31", "", "x", "wa"],
        ["c inc", "3/1/2013", "", "denied", "software engineer", "85,000", "", "x", "zz"],
        ["d inc", "3/1/2013", "", "certified", "software engineer", "0", "", "x", "ca"],
        [None, None, None, None, None, None, None, None, None],
    ]
    result = load_job_records([write_csv(tmp_path / "h1b_software.csv", header, rows)])
    out = result.rows
    assert result.stats["layouts"]["h1b_software.csv"] == "lca_scraped"
    assert out["wage_unit"].to_list() == ["Hour", None, "Year", "Hour"]
    assert out["annual_wage"].to_list() == [93600.0, None, 85000.0, 0.0]
    assert out["wage_flag"].to_list() == ["unit_inferred_hour", "unit_ambiguous", None, "implausible_low"]
    assert out["worksite_state"].to_list() == ["WA", "WA", "UNK", "CA"]
    assert out["fiscal_year"].to_list() == [2014, 2013, 2013, 2013]
    assert out["visa_class"].unique().to_list() == ["H-1B"]
    assert result.quarantine.is_empty()  # a row of empty cells is a blank line: skipped and counted
    assert result.stats["files"]["h1b_software.csv"]["n_blank_lines"] == 1
    assert_accounted(result)


def test_a_layout_lacking_a_unit_column_loads_by_roles_with_the_unit_inferred(tmp_path):
    """Before roles were inferred this file was refused: the h2 layout lacks its unit column."""
    path = write_csv(tmp_path / "odd.csv", ["EMPLOYER_NAME", "JOB_TITLE", "BASIC_RATE_OF_PAY"],
                     [["Acme", "Picker", "12.5"], ["Beta", "Cook", "52,000"]])
    result = load_job_records([path])
    assert result.stats["files"]["odd.csv"]["layout"] == "inferred"
    assert result.rows.sort("row_number")["wage_unit"].to_list() == ["Hour", "Year"]
    assert any("no wage unit column" in note for note in result.stats["files"]["odd.csv"]["notes"])


def test_find_job_files(tmp_path):
    folder = tmp_path / "jobs"
    write_csv(folder / "b.csv", ["x"], [["1"]])
    write_xlsx(folder / "a.xlsx", ["x"], [[1]])
    (folder / "~$a.xlsx").write_text("lock")
    assert [p.name for p in find_job_files(folder)] == ["a.xlsx", "b.csv"]
    assert find_job_files(tmp_path / "absent") == []
    (folder / "notes.pdf").write_text("x")
    with pytest.raises(ValueError, match="unsupported file type"):
        find_job_files(folder)


def test_no_files_gives_empty_typed_result():
    result = load_job_records([])
    assert result.rows.schema == pl.Schema(JOB_SCHEMA)
    assert result.stats["n_read"] == 0


def test_job_files_in_sub_folders_are_found_not_skipped(tmp_path):
    from workforce_assets.ingestion.jobs import find_job_files

    (tmp_path / "dol_h2").mkdir()
    (tmp_path / "dol_h2" / "a.csv").write_text("x\n")
    (tmp_path / "b.csv").write_text("x\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.csv").write_text("x\n")
    (tmp_path / "~$lock.xlsx").write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in find_job_files(tmp_path)] == ["b.csv", "dol_h2/a.csv"]


def test_fy2002_lca_layout_loads_by_column_roles(tmp_path):
    """The FY2002 LCA disclosure layout (no published layout of this module lists it) loads by roles."""
    header = ["NAME", "ADDRESS", "CITY_1", "STATE_1", "JOB_TITLE", "WAGE_RATE_1", "RATE_PER_1", "PW_1",
              "APPROVAL_STATUS", "NBR_IMMIGRANTS"]
    rows = [["ACME SOFTWARE INC", "1 Main St", "Austin", "TX", "PROGRAMMER ANALYST", "62000", "Year", "58000",
             "Certified", "2"],
            ["BETA LABS LLC", "2 Elm St", "Boston", "MA", "DATA SCIENTIST", "45.50", "Hour", "40", "Denied", "1"],
            ["Gamma Corp", "3 Oak", "Denver", "CO", "Research Engineer", "95,000", "Yr", "90000", "Certified", "1"]]
    result = load_job_records([write_csv(tmp_path / "H1B_FY2002.csv", header, rows)])
    stats = result.stats["files"]["H1B_FY2002.csv"]
    assert stats["layout"] == "inferred"
    assert stats["columns_used"] == {"employer_name": "NAME", "job_title": "JOB_TITLE", "worksite_state": "STATE_1",
                                     "wage_rate": "WAGE_RATE_1", "wage_unit": "RATE_PER_1",
                                     "case_status": "APPROVAL_STATUS"}
    assert "STATE_1" in stats["role_evidence"]["worksite_state"]
    got = result.rows.sort("row_number").select("employer_name", "worksite_state", "annual_wage", "case_status",
                                                "fiscal_year", "visa_class").rows()
    assert got == [("ACME SOFTWARE INC", "TX", 62000.0, "certified", 2002, "H-1B"),
                   ("BETA LABS LLC", "MA", 45.5 * 2080, "denied", 2002, "H-1B"),
                   ("GAMMA CORP", "CO", 95000.0, "certified", 2002, "H-1B")]
    assert result.quarantine.is_empty()


def test_a_file_whose_roles_cannot_be_found_is_quarantined_while_the_others_load(tmp_path):
    good = write_csv(tmp_path / "jobs.csv", ["employer_name", "job_title", "worksite_state", "wage_rate", "wage_unit"],
                     [["Baz Co", "Cook", "TX", "20", "Hour"]])
    bad = write_csv(tmp_path / "notes.csv", ["id", "comment", "amount"], [["1", "hello", "3"], ["2", "bye", "4"]])
    result = load_job_records([good, bad])
    assert result.rows.height == 1
    assert result.stats["files_not_loaded"]["notes.csv"]["missing_roles"] == ["employer_name", "job_title"]
    row = result.quarantine.row(0, named=True)
    assert row["source"] == "jobs/notes.csv" and row["reason"].startswith("file not loaded")
    assert "employer_name, job_title" in row["reason"]


def test_an_employer_address_state_is_not_taken_as_the_worksite(tmp_path):
    header = ["EMPLOYER", "EMPLOYER_STATE", "POSITION_TITLE", "SALARY"]
    result = load_job_records([write_csv(tmp_path / "extract.csv", header, [["Acme", "DE", "Engineer", "120000"]])])
    assert result.stats["files"]["extract.csv"]["layout"] == "inferred"
    assert "worksite_state" not in result.stats["files"]["extract.csv"]["columns_used"]
    assert result.rows["worksite_state"].to_list() == ["UNK"]
    assert result.rows["case_status"].to_list() == ["unknown"]


def test_a_repeated_header_in_an_xlsx_file_is_an_error_not_a_renamed_column(tmp_path):
    path = write_xlsx(tmp_path / "H-2B_FY20.xlsx", ["EMPLOYER_NAME", "JOB_TITLE", "EMPLOYER_NAME"], [["a", "b", "c"]])
    with pytest.raises(ValueError, match=r"H-2B_FY20\.xlsx: column names appear more than once: \['EMPLOYER_NAME'\]"):
        load_job_records([path])


def test_files_read_side_by_side_give_what_one_at_a_time_gives(tmp_path, monkeypatch):
    """The loader parses two files at a time; rows, quarantine and stats stay in file order and equal a
    one-at-a-time load (an unrecognised file among them included)."""
    from workforce_assets.ingestion import jobs

    header = ["employer_name", "job_title", "worksite_state", "wage_rate", "wage_unit"]
    paths = [write_csv(tmp_path / f"jobs_{i}.csv", header, [[f"Co {i}", "Cook", "TX", str(20 + i), "Hour"],
                                                            [f"Co {i}b", "Chef", "NY", "x", "Hour"]])
             for i in range(5)]
    paths.insert(2, write_csv(tmp_path / "notes.csv", ["id", "comment"], [["1", "hello"]]))
    paths.append(write_xlsx(tmp_path / "H-2B_FY2017.xlsx", header, [["Farm A", "Picker", "CO", 11.5, "Hour"]]))
    together = load_job_records(paths)
    monkeypatch.setattr(jobs, "READ_THREADS", 1)
    alone = load_job_records(paths)
    assert together.rows.equals(alone.rows) and together.quarantine.equals(alone.quarantine)
    assert together.stats == alone.stats
    assert together.rows["source_file"].unique(maintain_order=True).to_list() == [
        p.name for p in paths if p.name != "notes.csv"]
