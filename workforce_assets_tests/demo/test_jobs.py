"""The simulated LCA file is messy like the real one, and its structure is learnable."""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl
import pytest

STATE_NAMES = {"CA": "california", "NY": "new york", "TX": "texas", "WA": "washington"}


@pytest.fixture(scope="module")
def jobs(default_world) -> pl.DataFrame:
    return pl.read_csv(default_world.out_dir / "jobs/lca_demo_fy2024.csv", infer_schema_length=0)


@pytest.fixture(scope="module")
def jobs_truth(default_world) -> dict:
    return json.loads((default_world.out_dir / "truth/jobs_truth.json").read_text())


def _annual_wage(jobs: pl.DataFrame) -> pl.DataFrame:
    """A minimal parser for the checks here (the real one lives in ingestion)."""
    per_year = {"Year": 1, "Hour": 2080, "Week": 52, "Month": 12}
    return jobs.with_columns(
        pl.col("WAGE_RATE_OF_PAY_FROM").str.replace_all(r"[$,]", "").cast(pl.Float64, strict=False).alias("wage"),
    ).with_columns(
        (pl.col("wage") * pl.col("WAGE_UNIT_OF_PAY").replace_strict(per_year, default=None, return_dtype=pl.Float64)).alias("annual")
    )


def test_size_and_injected_issues(jobs, jobs_truth):
    issues = jobs_truth["issues_injected"]
    assert jobs.height == 20_000 == issues["rows"]
    assert jobs.height - jobs.unique().height == issues["exact_duplicate_rows"] > 0
    assert jobs["EMPLOYER_NAME"].null_count() == issues["empty_employer_name"] > 0
    assert jobs["JOB_TITLE"].null_count() == issues["empty_job_title"] > 0
    wages = _annual_wage(jobs)
    assert wages["wage"].null_count() == issues["unparseable_wage"] > 0
    known = {s.lower() for s in jobs["WORKSITE_STATE"].unique() if s and len(s) == 2 and s.isupper() and s != "ZZ"}
    assert "ca" in known and jobs["WORKSITE_STATE"].is_in(["ZZ", "Unknown", "Ontario", "N/A"]).sum() == issues["unknown_state"]


def test_real_world_mess_is_present(jobs):
    states = set(jobs["WORKSITE_STATE"].drop_nulls())
    assert {"CA", "California", "california", "CALIFORNIA"} <= states
    assert set(jobs["WAGE_UNIT_OF_PAY"]) >= {"Year", "Hour", "Week", "Month"}
    wages = jobs["WAGE_RATE_OF_PAY_FROM"].drop_nulls()
    assert wages.str.starts_with("$").sum() > 100 and wages.str.contains(",").sum() > 100
    assert jobs["WAGE_RATE_OF_PAY_TO"].null_count() > 0.5 * jobs.height
    # Employer name variants: one base name written several ways.
    base = jobs["EMPLOYER_NAME"].drop_nulls().str.to_uppercase().str.replace_all(r"[.,]", "").str.replace(
        r" (INC|INCORPORATED|LLC|L L C|CORP|CORPORATION|LTD|LIMITED|LLP)$", ""
    )
    spellings = pl.DataFrame({"base": base, "raw": jobs["EMPLOYER_NAME"].drop_nulls()}).group_by("base").agg(
        pl.col("raw").n_unique().alias("n")
    )
    assert (spellings["n"] >= 3).sum() >= 20
    assert jobs["EMPLOYER_NAME"].drop_nulls().str.contains("INCORPORATED").any()
    statuses = jobs["CASE_STATUS"].value_counts(normalize=True)
    certified = statuses.filter(pl.col("CASE_STATUS") == "Certified")["proportion"][0]
    assert 0.8 < certified < 0.95 and statuses.height == 4


def test_popularity_is_skewed_and_employers_span_states(jobs, default_world):
    counts = jobs["EMPLOYER_NAME"].drop_nulls().str.to_uppercase().str.replace_all(r"[.,]", "").value_counts(sort=True)
    top_share = counts["count"][: len(counts) // 100].sum() / counts["count"].sum()
    assert top_share > 0.15  # top 1% of name spellings hold a large share of records (Zipf-like)
    employers = pl.read_csv(default_world.out_dir / "truth/job_employers.csv")
    assert employers.height == 2_000
    assert (employers["other_states"].fill_null("").str.len_chars() > 0).mean() > 0.4


def test_titles_carry_seniority_and_match_soc(jobs):
    titles = jobs["JOB_TITLE"].drop_nulls().str.to_lowercase()
    for cue in ("senior", "sr.", "lead", "principal", "jr.", "intern", "manager", "director", "vp"):
        assert titles.str.contains(re.escape(cue)).sum() > 5, cue
    soc = jobs.drop_nulls("JOB_TITLE").with_columns(pl.col("SOC_CODE").str.slice(0, 7).alias("soc"))
    expected = {"data scientist": "15-2051", "software developer": "15-1252", "registered nurse": "29-1141",
                "machine learning engineer": "15-1221", "agronomist": "19-1013"}
    for title, code in expected.items():
        rows = soc.filter(pl.col("JOB_TITLE").str.to_lowercase().str.contains(title)
                          & ~pl.col("JOB_TITLE").str.to_lowercase().str.contains("manager|director|vp|vice president"))
        assert rows.height > 0 and (rows["soc"] == code).all(), title
    managers = soc.filter(pl.col("JOB_TITLE").str.to_lowercase().str.contains(r"^director of (software engineering|data science)"))
    assert managers.height > 0 and (managers["soc"] == "11-3021").all()


def test_wages_depend_on_role_seniority_and_state(jobs):
    wages = _annual_wage(jobs).drop_nulls(["annual", "JOB_TITLE", "WORKSITE_STATE"]).with_columns(
        pl.col("SOC_CODE").str.slice(0, 7).alias("soc"),
        pl.col("WORKSITE_STATE").str.to_uppercase().replace({"CALIFORNIA": "CA", "TEXAS": "TX"}).alias("state"),
        pl.col("JOB_TITLE").str.to_lowercase().str.contains(r"\b(senior|sr\.?|lead|principal|staff)\b|iii$").alias("senior"),
        pl.col("JOB_TITLE").str.to_lowercase().str.contains(r"\b(jr\.|junior|intern)\b|\bi$").alias("junior"),
        pl.col("annual").log().alias("log_wage"),
    )
    software = wages.filter(pl.col("soc") == "15-1252")
    assert software.filter("senior")["annual"].median() > 1.15 * software.filter(~pl.col("senior") & ~pl.col("junior"))["annual"].median()
    assert software.filter(pl.col("state") == "CA")["annual"].median() > software.filter(pl.col("state") == "TX")["annual"].median()
    assert wages.filter(pl.col("soc") == "29-1228")["annual"].median() > 2 * wages.filter(pl.col("soc") == "13-2011")["annual"].median()
    # A finer model (adding the seniority cue) explains more than the role x state median.
    coarse = wages.with_columns((pl.col("log_wage") - pl.col("log_wage").median().over(["soc", "state"])).abs().alias("err"))
    fine = wages.with_columns(
        (pl.col("log_wage") - pl.col("log_wage").median().over(["soc", "state", "senior", "junior"])).abs().alias("err")
    )
    assert fine["err"].mean() < 0.9 * coarse["err"].mean()
    assert np.isfinite(wages["annual"].to_numpy()).all()
