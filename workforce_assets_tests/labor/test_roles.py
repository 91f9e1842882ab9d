import polars as pl
import pytest

from workforce_assets.labor.roles import (
    ROLE_NAMES,
    ROLE_TAXONOMY,
    SENIORITY_LEVELS,
    RoleModel,
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
    assert (row["role_family"], row["seniority"]) == (role, seniority), row
    if soc is None:  # no code and no classifier: the title rules name the role itself
        assert row["role"] == role and row["role_source"] == ("title_rule" if role != "other" else "none")
    else:  # a code: the role is the SOC occupation, named by the code when the input gives no title
        assert row["role_source"] == "soc" and row["role"] == f"SOC {row['role_code']}"


def test_soc_spellings_agree_and_soc_wins_over_title():
    spellings = ["45-2092", "45-2092.02", "452092", " 45-2092.00 "]
    assert {_one("Cook", s)["role_code"] for s in spellings} == {"45-2092"}
    assert {_one("Cook", s)["role_family"] for s in spellings} == {"farmworker_crop"}
    assert _one("Cook", "45-2092")["role_source"] == "soc"
    assert _one("Cook")["role"] == "cook" and _one("Cook")["role_source"] == "title_rule"


def test_soc_title_is_second_title_source_and_unknown_is_kept():
    assert _one("Worker", None, "Farmworkers and Laborers, Crop")["role_family"] == "farmworker_crop"
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
    assert set(out["role"]) <= set(ROLE_NAMES) and set(out["role_family"]) <= set(ROLE_NAMES)
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


def _records(rows):
    return pl.DataFrame(rows, schema={"job_title": pl.Utf8, "soc_code": pl.Utf8, "soc_title": pl.Utf8,
                                      "fiscal_year": pl.Int64, "employer_key": pl.Utf8}, orient="row")


def test_soc_catalog_names_roles_by_the_files_titles_and_reconciles_versions():
    rows = (
        [("Cook", "35-2014", "Cooks, Restaurant", 2016, "a")] * 5
        + [("Cook", "35-2014.00", "Cooks, Restaurant", 2017, "b")] * 2
        + [("Cook", "35-2014", "Cooks, All Other", 2017, "c")]  # another code's title under this code
        + [("Cook", "35-2019", "Cooks, All Other", 2017, "c")] * 3
        # a fixed-width file cut the title: the full spelling names the role
        + [("Supervisor", "35-1012", "First-Line Supervisors of Food Preparation and", 2016, "d")] * 4
        + [("Supervisor", "35-1012", "First-Line Supervisors of Food Preparation and Serving Workers", 2018, "e")]
        # SOC 2010 25-2041 and SOC 2018 25-2051 under the same title: one occupation, the later code kept
        + [("Teacher", "25-2041", "Special Education Teachers, Preschool", 2015, "f")] * 2
        + [("Teacher", "25-2051", "Special Education Teachers, Preschool", 2019, "g")]
    )
    out = add_role_and_seniority(_records(rows))
    by_code = dict(zip(out["role_code"], out["role"]))
    assert by_code["35-2014"] == "Cooks, Restaurant" and by_code["35-2019"] == "Cooks, All Other"
    assert by_code["35-1012"] == "First-Line Supervisors of Food Preparation and Serving Workers"
    assert "25-2041" not in by_code and by_code["25-2051"] == "Special Education Teachers, Preschool"
    assert out.filter(pl.col("job_title") == "Teacher")["role_code"].to_list() == ["25-2051"] * 3
    model = RoleModel(use_title_classifier=False).fit(_records(rows))
    outcome = {(r["code"], r["title"]): r["outcome"] for r in model.catalog_.reconciliation_.iter_rows(named=True)}
    assert outcome[("35-2014", "Cooks, All Other")] == "title_of_other_code"
    assert outcome[("35-1012", "First-Line Supervisors of Food Preparation and")] == "truncated"
    assert outcome[("25-2041", "Special Education Teachers, Preschool")] == "merged"
    table = model.roles_table(out)
    assert table["n_records"].sum() == out.height and table["role"].n_unique() == table.height
    assert table.filter(pl.col("role_code") == "25-2051")["merged_codes"].item() == "25-2041"
    assert table.filter(pl.col("role_code") == "35-2014")["major_group_title"].item().startswith("Food Preparation")


def test_title_classifier_places_records_without_a_code_and_falls_back_when_unsure():
    rows = []
    for employer in range(12):
        e = f"emp{employer}"
        rows += [("Software Developer", "15-1132", "Software Developers, Applications", 2014, e),
                 ("Senior Java Developer", "15-1132", "Software Developers, Applications", 2014, e),
                 ("Systems Software Engineer", "15-1133", "Software Developers, Systems Software", 2014, e),
                 ("Embedded Systems Software Engineer", "15-1133", "Software Developers, Systems Software", 2014, e),
                 ("Line Cook", "35-2014", "Cooks, Restaurant", 2014, e), ("Prep Cook", "35-2014", "Cooks, Restaurant", 2014, e),
                 ("Dishwasher", "35-9021", "Dishwashers", 2014, e), ("Farmworker", "45-2092", "Farmworkers", 2014, e)]
    rows += [("Java Developer", None, None, 2014, "new"), ("Software Engineer", None, None, 2014, "new"),
             ("Restaurant Line Cook", None, None, 2014, "new"), ("", None, None, 2014, "new")]
    jobs = _records(rows)
    model = RoleModel(min_confidence=0.5).fit(jobs)
    assert model.classifier_ is not None and set(model.classifier_.holdout_accuracy_) == {"detailed", "broad", "major"}
    out = model.transform(jobs).filter(pl.col("employer_key") == "new")
    got = {r["job_title"]: r for r in out.iter_rows(named=True)}
    assert got["Restaurant Line Cook"]["role_code"] == "35-2014" and got["Restaurant Line Cook"]["role_source"] == "title_classifier"
    # two software occupations the title cannot tell apart: kept at the broad group with its confidence
    for title in ("Java Developer", "Software Engineer"):
        r = got[title]
        assert r["role_code"].startswith("15-1") and r["role_source"] == "title_classifier"
        assert 0 < r["role_confidence"] <= 1
        if r["role_level"] == "broad":
            assert r["role_code"] == "15-1130" and r["role"].startswith("SOC broad group 15-1130")
    assert got[""]["role_source"] == "none" and got[""]["role"] == "other"
    # a record with its own code never goes through the classifier
    assert model.transform(jobs.head(1))["role_confidence"].to_list() == [None]
