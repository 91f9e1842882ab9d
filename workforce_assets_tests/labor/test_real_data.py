"""The labor core end to end on the real DOL files (skipped only where ../shared/data is absent)."""

import polars as pl
import pytest

from workforce_assets.ingestion.jobs import find_job_files, load_job_records
from workforce_assets.labor.existence import evaluate_existence
from workforce_assets.labor.matrix import build_archetype_matrix
from workforce_assets.labor.roles import add_role_and_seniority


@pytest.fixture(scope="module")
def real_jobs(shared_data):
    jobs_dir = shared_data / "jobs"
    files = find_job_files(jobs_dir)  # searches dol_h2/ too
    assert len(files) == 11
    return add_role_and_seniority(load_job_records(files).rows)


def test_roles_cover_the_real_titles(real_jobs):
    source = dict(real_jobs["role_source"].value_counts().iter_rows())
    assert source.get("none", 0) / real_jobs.height < 0.002
    h1b = real_jobs.filter(pl.col("visa_class") == "H-1B")
    assert (h1b["role"] == "other").mean() < 0.001
    assert h1b["role"].is_in(["software_engineer", "software_test_engineer", "software_architect"]).mean() > 0.9


def test_existence_goal_on_real_data(real_jobs):
    matrix = build_archetype_matrix(real_jobs)
    assert matrix["company_id"].n_unique() > 20_000
    frame = evaluate_existence(matrix, seed=0, n_estimators=40, negatives_per_company=30, n_rounds=1,
                               methods=("popularity", "item_knn", "affinity_heuristic", "lightgbm"))
    recall = {m: v for m, k, v in frame.select("method", "metric", "value").iter_rows() if k == "recall@10"}
    assert recall["lightgbm"] >= 2 * recall["popularity"]
    assert recall["lightgbm"] > max(recall["item_knn"], recall["affinity_heuristic"])
