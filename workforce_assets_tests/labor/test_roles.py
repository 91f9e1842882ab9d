import polars as pl
import pytest

from workforce_assets.labor.roles import (
    ROLE_NAMES,
    ROLE_TAXONOMY,
    SENIORITY_LEVELS,
    add_role_and_seniority,
    role_taxonomy_table,
)


def _one(title, soc=None, soc_title=None):
    frame = pl.DataFrame({"job_title": [title], "soc_code": [soc], "soc_title": [soc_title]},
                         schema={"job_title": pl.Utf8, "soc_code": pl.Utf8, "soc_title": pl.Utf8})
    return add_role_and_seniority(frame).row(0, named=True)


@pytest.mark.parametrize(
    "title, soc, role, seniority",
    [
        ("Sr. Software Engineer II", None, "software_engineer", "senior"),
        ("SOFTWARE DEVELOPMENT ENGINEER IN TEST", None, "software_test_engineer", "unknown"),
        ("Software Design Engineer in Test (SDET)", None, "software_test_engineer", "unknown"),
        ("software developer - I", None, "software_engineer", "junior"),
        ("Software Developer 3", None, "software_engineer", "senior"),
        ("software developers - ii", None, "software_engineer", "mid"),
        ("Junior .NET developer", None, "software_engineer", "junior"),
        ("Principal Software Architect", None, "software_architect", "principal"),
        ("VP, Engineering", None, "other", "executive"),
        ("Summer Intern - Data Scientist", None, "data_scientist", "intern"),
        ("Executive Chef", "35-1011", "chef_kitchen_supervisor", "lead"),
        ("Executive Assistant", "43-6011", "office_clerk", "mid"),
        ("Associate Director of Coaching", "27-2022", "coach_sports", "director"),
        ("Farm Labor Supervisor", "45-1011.00", "farm_supervisor", "lead"),
        ("Landscape Laborer II", "37-3011", "landscaping_groundskeeping", "mid"),
        ("Carpenter Helper", "47-3012", "construction_helper", "junior"),
        ("Farmworker; Diversified Crop", "452092", "farmworker_crop", "unknown"),
        ("Sheepherder", "45-2093.00", "farmworker_livestock", "unknown"),
        ("Assistant Restaurant Manager", "11-9051", "hospitality_manager", "manager"),
    ],
)
def test_tricky_titles(title, soc, role, seniority):
    row = _one(title, soc)
    assert (row["role"], row["seniority"]) == (role, seniority), row


def test_soc_spellings_agree_and_soc_wins_over_title():
    spellings = ["45-2092", "45-2092.02", "452092", " 45-2092.00 "]
    assert {_one("Cook", s)["role"] for s in spellings} == {"farmworker_crop"}
    assert _one("Cook", "45-2092")["role_source"] == "soc"
    assert _one("Cook")["role"] == "cook" and _one("Cook")["role_source"] == "title"


def test_soc_title_is_second_title_source_and_unknown_is_kept():
    assert _one("Worker", None, "Farmworkers and Laborers, Crop")["role"] == "farmworker_crop"
    row = _one(None)
    assert (row["role"], row["role_source"], row["seniority"], row["seniority_source"]) == ("other", "none", "unknown", "none")


def test_seniority_comes_from_the_wage_level_first_then_title_cues_else_unknown():
    frame = pl.DataFrame({
        "job_title": ["Software Developer", "Senior Software Developer", "Software Developer", "Software Developer"],
        "wage_level": ["IV", "I", None, "II"],
    })
    out = add_role_and_seniority(frame)
    assert out["seniority"].to_list() == ["lead", "junior", "unknown", "mid"]  # the DOL's grading outranks the title
    assert out["seniority_source"].to_list() == ["wage_level", "wage_level", "none", "wage_level"]


def test_wage_levels_are_read_from_lca_spellings():
    from workforce_assets.ingestion.jobs import normalize_wage_level

    values = pl.DataFrame({"v": ["Level II", "II", "2", "level 4", " III ", "N/A", None, "Level V", "OES"]})
    assert values.select(normalize_wage_level(pl.col("v")))["v"].to_list() == [
        "II", "II", "II", "IV", "III", None, None, None, None]


def test_every_row_kept_in_order_and_values_in_vocabulary():
    titles = ["Cook", None, "Senior Data Engineer", "", "Director of Sales", "Roofer"] * 50
    frame = pl.DataFrame({"job_title": titles, "i": range(len(titles))})
    out = add_role_and_seniority(frame)
    assert out.height == frame.height and out["i"].to_list() == frame["i"].to_list()
    assert set(out["role"]) <= set(ROLE_NAMES)
    assert set(out["seniority"]) <= set(SENIORITY_LEVELS)


def test_taxonomy_is_documented_and_soc_prefixes_unique():
    table = role_taxonomy_table()
    assert 30 <= table.height <= 70
    assert table["description"].str.len_chars().min() > 0
    prefixes = [p for r in ROLE_TAXONOMY for p in r.soc_prefixes]
    assert len(prefixes) == len(set(prefixes))


def test_missing_title_column_is_a_clear_error():
    with pytest.raises(ValueError, match="job_title"):
        add_role_and_seniority(pl.DataFrame({"soc_code": ["45-2092"]}))
