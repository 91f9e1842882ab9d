"""Rated CVs, companies and profile batches: one malformed case each -> clear error or quarantine row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workforce_assets.ingestion.inputs import discover_batches, load_companies, load_profiles, load_rated_cvs


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def assert_accounted(result) -> None:
    stats = result.stats
    assert stats["n_read"] == stats["n_loaded"] + stats["n_quarantined"]
    assert stats["n_loaded"] == result.rows.height and stats["n_quarantined"] == result.quarantine.height


def reasons(result) -> dict[int, str]:
    return dict(zip(result.quarantine["row_number"].to_list(), result.quarantine["reason"].to_list()))


# --- reading ---------------------------------------------------------------------------------------------


def test_ids_stay_text_and_bom_and_header_whitespace_are_handled(tmp_path):
    path = write(tmp_path / "rated_cvs.csv", "\ufeff cv_id , cv_text ,is_ml_expert ,notes\n007,hello,1,x\n010,,0,\n",
                 encoding="utf-8")
    result = load_rated_cvs(path)
    assert result.rows["cv_id"].to_list() == ["007", "010"]
    assert result.rows["cv_text"].to_list() == ["hello", ""]
    assert result.rows["is_ml_expert"].to_list() == [1, 0]
    assert result.stats["ignored_columns"] == ["notes"]
    assert_accounted(result)


def test_missing_required_column_names_file_and_column(tmp_path):
    path = write(tmp_path / "rated_cvs.csv", "cv_id,text,label\na,b,1\n")
    with pytest.raises(ValueError, match=r"rated_cvs\.csv.*\['cv_text', 'is_ml_expert'\]"):
        load_rated_cvs(path)


def test_empty_file_is_a_missing_column_error(tmp_path):
    with pytest.raises(ValueError, match="companies.csv: missing required column"):
        load_companies(write(tmp_path / "companies.csv", ""))


def test_repeated_header_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="more than once"):
        load_rated_cvs(write(tmp_path / "rated_cvs.csv", "cv_id,cv_text,cv_id ,is_ml_expert\na,b,c,1\n"))


# --- rated CVs -------------------------------------------------------------------------------------------


def test_rated_cvs_quarantine_reasons(tmp_path):
    text = (
        "cv_id,cv_text,is_ml_expert\n"
        "a,one,1\n"        # 1 loaded
        ",two,0\n"         # 2 missing id
        "b,three,maybe\n"  # 3 unknown label
        "c,four,\n"        # 4 missing label
        "a,one,1\n"        # 5 exact duplicate of row 1
        "a,other,0\n"      # 6 conflicting duplicate
        "d,five,TRUE\n"    # 7 loaded (true -> 1)
    )
    result = load_rated_cvs(write(tmp_path / "rated_cvs.csv", text))
    assert result.rows["cv_id"].to_list() == ["a", "d"]
    assert result.rows["is_ml_expert"].to_list() == [1, 1]
    got = reasons(result)
    assert got[2] == "missing cv_id"
    assert got[3].startswith("unknown is_ml_expert value")
    assert got[4] == "missing is_ml_expert"
    assert got[5] == "exact duplicate of row 1"
    assert got[6] == "duplicate cv_id with conflicting values (row 1 kept)"
    assert set(result.quarantine["source"]) == {"rated_cvs.csv"}
    assert json.loads(result.quarantine.filter(result.quarantine["row_number"] == 3)["raw"][0])["is_ml_expert"] == "maybe"
    assert result.stats["n_experts"] == 2
    assert_accounted(result)


def test_rated_cvs_duplicate_of_an_invalid_row_is_not_a_duplicate(tmp_path):
    text = "cv_id,cv_text,is_ml_expert\na,x,oops\na,x,1\n"
    result = load_rated_cvs(write(tmp_path / "rated_cvs.csv", text))
    assert result.rows["cv_id"].to_list() == ["a"]
    assert list(reasons(result)) == [1]


# --- companies -------------------------------------------------------------------------------------------


def test_companies_headcount_rules_and_headquarters_as_country(tmp_path):
    text = (
        "company_id,company_name,headcount,headquarters,extra\n"
        "a,Alpha,1000,France,x\n"
        "b,Beta,0,US,\n"
        "c,Gamma,12.5,US,\n"
        "d,Delta,lots,US,\n"
        "e,,10,US,\n"
        "f,Phi,\"1,200\",US,\n"
        "a,Alpha,1000,France,y\n"
        "g,Gee,-3,US,\n"
    )
    result = load_companies(write(tmp_path / "companies.csv", text))
    assert result.rows["company_id"].to_list() == ["a", "f"]
    assert result.rows["headcount"].to_list() == [1000, 1200]
    assert result.rows["country"].to_list() == ["France", "US"]
    assert result.rows["industry"].to_list() == [None, None]
    assert result.stats["country_column"] == "headquarters"
    assert result.stats["ignored_columns"] == ["extra"]
    got = reasons(result)
    assert got[2] == "headcount < 1"
    assert got[3] == got[4] == got[8] == "headcount is not a whole number"
    assert got[5] == "missing company_name"
    assert got[7] == "exact duplicate of row 1"  # extra column differs, contract columns are identical
    assert_accounted(result)


def test_companies_country_column_wins_over_headquarters(tmp_path):
    text = "company_id,company_name,headcount,country,headquarters,industry\na,A,5,DE,Berlin,software\n"
    result = load_companies(write(tmp_path / "companies.csv", text))
    assert result.rows.row(0) == ("a", "A", 5, "DE", "software", None)  # segment absent: null
    assert result.stats["country_column"] == "country"


# --- profiles --------------------------------------------------------------------------------------------


def test_discover_batches_sorted_and_keyed_by_stem(tmp_path):
    write(tmp_path / "profiles" / "b_2.jsonl", "")
    write(tmp_path / "profiles" / "a-1.csv", "")
    write(tmp_path / "profiles" / ".DS_Store", "")
    batches = discover_batches(tmp_path / "profiles")
    assert list(batches) == ["a-1", "b_2"]
    assert batches["b_2"].name == "b_2.jsonl"
    assert discover_batches(tmp_path / "absent") == {}


def test_discover_batches_same_stem_twice_is_an_error(tmp_path):
    write(tmp_path / "profiles" / "acme.csv", "")
    write(tmp_path / "profiles" / "acme.jsonl", "")
    with pytest.raises(ValueError, match="batch 'acme' is given twice"):
        discover_batches(tmp_path / "profiles")


def test_discover_batches_unsafe_stem_is_an_error(tmp_path):
    write(tmp_path / "profiles" / "acme corp.csv", "")
    with pytest.raises(ValueError, match="not a safe partition key"):
        discover_batches(tmp_path / "profiles")


def test_discover_batches_other_file_type_is_an_error(tmp_path):
    write(tmp_path / "profiles" / "acme.xlsx", "")
    with pytest.raises(ValueError, match="unsupported file type"):
        discover_batches(tmp_path / "profiles")


def test_load_profiles_csv_quarantines_and_keeps_empty_text(tmp_path):
    text = (
        "profile_id,company_id,profile_text\n"
        "p1,acme,ML engineer\n"
        "p2,acme,\n"           # empty text is kept
        ",acme,no id\n"
        "p3,,no company\n"
        "p4,ghost,unknown company\n"
        "p1,acme,ML engineer\n"
        "p1,acme,different\n"
    )
    result = load_profiles(write(tmp_path / "acme.csv", text), "acme", known_company_ids={"acme"})
    assert result.rows.columns == ["profile_id", "company_id", "batch", "profile_text"]
    assert result.rows.rows() == [("p1", "acme", "acme", "ML engineer"), ("p2", "acme", "acme", "")]
    got = reasons(result)
    assert got == {
        3: "missing profile_id",
        4: "missing company_id",
        5: "unknown company_id (not in companies)",
        6: "exact duplicate of row 1",
        7: "duplicate profile_id with conflicting values (row 1 kept)",
    }
    assert set(result.quarantine["source"]) == {"profiles/acme.csv"}
    assert result.stats["n_empty_text"] == 1
    assert_accounted(result)


def test_load_profiles_jsonl_reads_strings_and_unknown_companies_pass_without_known_ids(tmp_path):
    lines = [
        {"profile_id": 7, "company_id": "ghost", "profile_text": "a"},
        {"profile_id": "8", "company_id": "ghost", "profile_text": None},
    ]
    path = write(tmp_path / "batch.1.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    result = load_profiles(path, "batch.1")
    assert result.rows["profile_id"].to_list() == ["7", "8"]
    assert result.rows["profile_text"].to_list() == ["a", ""]
    assert_accounted(result)


def test_load_profiles_missing_column_and_bad_json_and_unsafe_batch(tmp_path):
    with pytest.raises(ValueError, match=r"profiles/x\.csv: missing required column\(s\) \['profile_text'\]"):
        load_profiles(write(tmp_path / "x.csv", "profile_id,company_id\n1,a\n"), "x")
    with pytest.raises(ValueError, match=r"y\.jsonl: cannot be read"):
        load_profiles(write(tmp_path / "y.jsonl", '{"profile_id": 1,\n'), "y")
    with pytest.raises(ValueError, match="not a safe partition key"):
        load_profiles(write(tmp_path / "z.csv", "profile_id,company_id,profile_text\n"), "../z")


def test_rows_with_the_same_empty_text_are_exact_duplicates(tmp_path):
    text = "cv_id,cv_text,is_ml_expert\na,,1\na,,1\nb,,0\nb,x,0\n"
    result = load_rated_cvs(write(tmp_path / "rated_cvs.csv", text))
    assert reasons(result) == {2: "exact duplicate of row 1", 4: "duplicate cv_id with conflicting values (row 3 kept)"}


def test_a_ragged_row_is_quarantined_with_its_row_and_line_while_the_rest_loads(tmp_path):
    """Issue 10: one ragged row rejected the whole file with polars' advice and no row number."""
    path = write(tmp_path / "rated_cvs.csv",
                 "cv_id,cv_text,is_ml_expert\na,b,1,extra\nc,d,0\ne,f\ng,h,1,\n")
    result = load_rated_cvs(path)
    assert result.rows["cv_id"].to_list() == ["c", "g"]  # a trailing empty field carries nothing: kept
    assert reasons(result) == {1: "line 2 has 4 fields, the header has 3", 3: "line 4 has 2 fields, the header has 3"}
    raw = dict(zip(result.quarantine["row_number"].to_list(), result.quarantine["raw"].to_list()))
    assert raw[1] == "a,b,1,extra"
    assert result.stats["n_read"] == result.stats["n_loaded"] + result.stats["n_quarantined"] == 4
    assert result.stats["n_malformed_rows"] == 2


def test_blank_lines_are_skipped_and_counted_and_quoted_paragraphs_stay_one_field(tmp_path):
    """Issue 10: blank lines were quarantined as `missing cv_id`; polars also split a quoted field at a blank line."""
    path = write(tmp_path / "rated_cvs.csv",
                 'cv_id,cv_text,is_ml_expert\n\na,"first paragraph\n\nsecond paragraph",1\n   \n,,\nb,x,0\n\n')
    result = load_rated_cvs(path)
    assert result.rows["cv_text"].to_list() == ["first paragraph\n\nsecond paragraph", "x"]
    assert result.quarantine.is_empty()
    assert result.stats["n_blank_lines"] == 4  # the empty lines, the spaces-only line and the ',,' line


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"])
def test_encodings_are_detected_and_decoded_exactly(tmp_path, encoding):
    """Issue 10: a latin-1 `Ingénieur` was stored as `Ing\ufffdnieur` (lossy UTF-8)."""
    texts = ["Ingénieur ML à Zürich", "“quoted” – 5 €" if encoding == "cp1252" else "plain"]
    path = tmp_path / "rated_cvs.csv"
    path.write_bytes(f"cv_id,cv_text,is_ml_expert\na,{texts[0]},1\nb,{texts[1]},0\n".encode(encoding))
    result = load_rated_cvs(path)
    assert result.rows["cv_text"].to_list() == texts
    expected = {"utf-16": "utf-16", "latin-1": "cp1252"}.get(encoding, encoding)  # latin-1 text is valid cp1252
    assert result.stats["encoding"] == expected


def test_binary_data_is_refused_not_decoded_into_garbage(tmp_path):
    path = tmp_path / "rated_cvs.csv"
    path.write_bytes(b"cv_id,cv_text,is_ml_expert\na,\x00\x00\x01\x00binary,1\n")
    with pytest.raises(ValueError, match=r"rated_cvs\.csv: read as utf-8, line 2 holds the control character U\+0000"):
        load_rated_cvs(path)
    path.write_bytes(b"cv_id,cv_text,is_ml_expert\na,\xe9t\xe9 \x02,1\n")  # no single-byte text has \x02
    with pytest.raises(ValueError, match=r"read as cp1252, line 2 holds the control character U\+0002"):
        load_rated_cvs(path)


def test_an_unclosed_quote_quarantines_its_line_and_the_rest_loads(tmp_path):
    """Issue 10: an unclosed quote put the whole file into an 8.9 MB exception message."""
    body = "".join(f"r{i},some long text number {i} that goes on for a while,1\n" for i in range(20_000))
    path = write(tmp_path / "rated_cvs.csv", 'cv_id,cv_text,is_ml_expert\nx,"unclosed,1\n' + body)
    result = load_rated_cvs(path)
    assert result.rows.height == 20_000
    bad = result.quarantine.row(0, named=True)
    assert bad["row_number"] == 1 and "quoted field opened on line 2 is not closed" in bad["reason"]
    assert bad["raw"] == 'x,"unclosed,1' and len(bad["reason"]) < 300


def test_too_many_malformed_rows_refuse_the_file_with_a_short_message(tmp_path):
    body = "".join(f"r{i},text,1,{'x' * 500}\n" for i in range(1_200))
    path = write(tmp_path / "rated_cvs.csv", "cv_id,cv_text,is_ml_expert\n" + body)
    with pytest.raises(ValueError, match="more than 1000 malformed rows") as caught:
        load_rated_cvs(path)
    assert len(str(caught.value)) < 2_000


def test_exactly_repeated_header_is_an_error_not_a_renamed_phantom_column(tmp_path):
    """Issue 10: polars renamed a second `company_id` / `llm_extra` to `*_duplicated_0` before the check saw it."""
    with pytest.raises(ValueError, match=r"more than once: \['cv_id'\]"):
        load_rated_cvs(write(tmp_path / "rated_cvs.csv", "cv_id,cv_text,cv_id,is_ml_expert\na,b,c,1\n"))
    folder = tmp_path / "profiles"
    folder.mkdir()
    write(folder / "b1.csv", "profile_id,company_id,profile_text,company_id\np1,c1,text,c2\n")
    with pytest.raises(ValueError, match=r"more than once: \['company_id'\]"):
        load_profiles(folder / "b1.csv", "b1")


def test_a_sub_folder_of_profiles_is_an_error_not_silently_skipped(tmp_path):
    """Issue 10: batch files in profiles/2024/ were skipped in silence, their companies missing from totals."""
    folder = tmp_path / "profiles"
    (folder / "2024").mkdir(parents=True)
    write(folder / "b1.csv", "profile_id,company_id,profile_text\np1,c1,text\n")
    write(folder / "2024" / "b2.csv", "profile_id,company_id,profile_text\np2,c1,text\n")
    (folder / ".cache").mkdir()  # hidden folders stay ignored
    with pytest.raises(ValueError, match=r"profiles/: sub-folders are not read \(2024/\)"):
        discover_batches(folder)
    (folder / "2024" / "b2.csv").unlink()
    (folder / "2024").rmdir()
    assert list(discover_batches(folder)) == ["b1"]
