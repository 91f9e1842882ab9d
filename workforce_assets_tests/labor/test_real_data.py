"""The labor core end to end on the real DOL files (skipped only where ../shared/data is absent)."""

import polars as pl
import pytest

from workforce_assets.ingestion.jobs import find_job_files, load_job_records
from workforce_assets.labor.existence import evaluate_existence
from workforce_assets.labor.matrix import build_archetype_matrix
from workforce_assets.labor.roles import RoleModel


@pytest.fixture(scope="module")
def role_model_and_jobs(shared_data):
    jobs_dir = shared_data / "jobs"
    files = find_job_files(jobs_dir)  # searches dol_h2/ too
    assert len(files) == 11
    records = load_job_records(files).rows
    model = RoleModel().fit(records)
    return model, model.transform(records)


@pytest.fixture(scope="module")
def real_jobs(role_model_and_jobs):
    return role_model_and_jobs[1]


def test_roles_follow_the_soc_occupations_of_the_real_files(role_model_and_jobs):
    model, jobs = role_model_and_jobs
    assert jobs.height == 117_817
    # every H-2 record with a code keeps it: the roles are the occupations present (hundreds, not 66)
    assert jobs.filter(pl.col("visa_class") != "H-1B")["role_source"].value_counts().sort("count")[-1, "role_source"] == "soc"
    assert model.catalog_.occupations_.height >= 400 and jobs["role"].n_unique() >= 400
    outcomes = dict(model.catalog_.reconciliation_.group_by("outcome").len().iter_rows())
    assert outcomes.get("merged", 0) >= 1 and outcomes.get("title_of_other_code", 0) >= 1
    # H-1B titles carry no code: the classifier places them, almost all in computer occupations (SOC 15)
    h1b = jobs.filter(pl.col("visa_class") == "H-1B")
    assert (h1b["role_source"] == "title_classifier").all()
    assert h1b["role_code"].str.starts_with("15-").mean() > 0.9
    assert h1b["role_confidence"].is_between(0, 1).all()
    # its accuracy on employers held out of its fit (published in docs/validation.md section 8)
    accuracy = model.classifier_.holdout_accuracy_
    assert accuracy["detailed"] > 0.85 and accuracy["broad"] > accuracy["detailed"] - 1e-9 and accuracy["major"] > 0.93


def test_seniority_is_mid_only_where_evidence_says_so(real_jobs):
    mid = real_jobs.filter(pl.col("seniority") == "mid")
    assert mid["seniority_source"].is_in(["wage_level", "title"]).all()
    assert (real_jobs["seniority"] == "mid").mean() < 0.1  # was 95% when no cue meant mid


def test_existence_goal_on_real_data(real_jobs):
    matrix = build_archetype_matrix(real_jobs)
    assert matrix["company_id"].n_unique() > 20_000
    frame = evaluate_existence(matrix, seed=0, n_estimators=40, negatives_per_company=30, n_rounds=1,
                               methods=("popularity", "item_knn", "affinity_heuristic", "lightgbm"))
    recall = {m: v for m, k, v in frame.select("method", "metric", "value").iter_rows() if k == "recall@10"}
    assert recall["lightgbm"] >= 2 * recall["popularity"]
    assert recall["lightgbm"] > max(recall["item_knn"], recall["affinity_heuristic"])
