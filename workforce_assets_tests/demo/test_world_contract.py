"""The generated directory follows the input contract, is deterministic, and its truth is consistent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import polars as pl
import pytest

from workforce_assets.demo import DemoConfig, generate_demo_world
from workforce_assets_tests.conftest import REPO_ROOT
from workforce_assets_tests.demo.conftest import read_all_bytes

LLM_COLUMNS = ["llm_gemini_2_5_flash", "llm_sonnet_4", "llm_gpt_5_mini"]


def _read(summary, relative: str) -> pl.DataFrame:
    return pl.read_csv(summary.out_dir / relative, infer_schema_length=0)  # all strings: check what is written


def _profiles(summary) -> pl.DataFrame:
    frames = [
        _read(summary, name).with_columns(pl.lit(name.split("/")[1].removesuffix(".csv")).alias("batch"))
        for name in summary.row_counts
        if name.startswith("profiles/")
    ]
    return pl.concat(frames)


def test_same_seed_gives_byte_identical_files(tmp_path, small_world):
    again = generate_demo_world(tmp_path / "again", DemoConfig.small())
    assert read_all_bytes(again.out_dir) == read_all_bytes(small_world.out_dir)


def test_other_seed_gives_other_world(tmp_path, small_world):
    other = generate_demo_world(tmp_path / "other", replace(DemoConfig.small(), seed=8))
    assert (other.out_dir / "rated_cvs.csv").read_bytes() != (small_world.out_dir / "rated_cvs.csv").read_bytes()


def test_regenerating_removes_stale_batches(tmp_path):
    target = tmp_path / "world"
    generate_demo_world(target, replace(DemoConfig.small(), n_batches=4))
    assert (target / "profiles" / "batch_04.csv").exists()
    summary = generate_demo_world(target, DemoConfig.small())
    assert sorted(p.name for p in (target / "profiles").glob("*.csv")) == ["batch_01.csv", "batch_02.csv"]
    assert summary.batches == ["batch_01", "batch_02"]


def test_files_have_contract_columns(small_world):
    s = small_world
    assert _read(s, "rated_cvs.csv").columns == ["cv_id", "cv_text", "is_ml_expert"]
    assert _read(s, "companies.csv").columns == ["company_id", "company_name", "headcount", "country", "industry"]
    assert _read(s, "annotations/llm_labels.csv").columns == ["item_id", *LLM_COLUMNS]
    for name in s.row_counts:
        if name.startswith("profiles/"):
            assert _read(s, name).columns == ["profile_id", "company_id", "profile_text"]
    assert _read(s, "truth/company_truth.csv").columns == [
        "company_id", "headcount", "prevalence", "true_ml_experts", "n_sampled", "true_ml_in_sample",
    ]
    assert _read(s, "jobs/lca_demo_fy2024.csv").columns == [
        "CASE_NUMBER", "CASE_STATUS", "VISA_CLASS", "EMPLOYER_NAME", "JOB_TITLE", "SOC_CODE", "SOC_TITLE",
        "WORKSITE_CITY", "WORKSITE_STATE", "WAGE_RATE_OF_PAY_FROM", "WAGE_RATE_OF_PAY_TO", "WAGE_UNIT_OF_PAY",
        "TOTAL_WORKER_POSITIONS",
    ]
    for relative, n_rows in s.row_counts.items():
        assert pl.read_csv(s.paths[relative], infer_schema_length=0).height == n_rows
    readme = (s.out_dir / "README.md").read_text()
    assert "SIMULATED" in readme and "seed 7" in readme and "workforce_assets.demo" in readme
    assert "simulation" in (s.out_dir / "truth" / "README.md").read_text().lower() or "SIMULATED" in (
        s.out_dir / "truth" / "README.md"
    ).read_text()


def test_small_config_sizes(small_world):
    s = small_world
    assert s.row_counts["companies.csv"] == 12
    assert s.row_counts["rated_cvs.csv"] == 150
    assert s.row_counts["jobs/lca_demo_fy2024.csv"] == 1_500
    assert s.batches == ["batch_01", "batch_02"]
    truth = pl.read_csv(s.out_dir / "truth/company_truth.csv")
    assert truth["n_sampled"].max() <= 40


def test_companies_and_labels_values(small_world):
    s = small_world
    companies = pl.read_csv(s.out_dir / "companies.csv")
    assert companies["company_id"].is_unique().all() and companies["company_name"].is_unique().all()
    assert companies["headcount"].dtype == pl.Int64 and companies["headcount"].min() >= 1
    assert set(companies["country"]) <= {"US", "GB", "DE", "FR", "CA", "IN"}
    rated = pl.read_csv(s.out_dir / "rated_cvs.csv")
    assert set(rated["is_ml_expert"]) == {0, 1}
    assert rated["cv_text"].null_count() == 0

    labels = _read(s, "annotations/llm_labels.csv")
    profiles = _profiles(s)
    assert labels["item_id"].is_unique().all()
    assert set(labels["item_id"]) == set(rated["cv_id"]) | set(profiles["profile_id"])
    values = set(pl.concat([labels[c] for c in LLM_COLUMNS]).to_list())
    assert values <= {"1", "0", "ERROR", None} and {"1", "0"} <= values


def test_every_sampled_company_in_exactly_one_batch(small_world):
    profiles = _profiles(small_world)
    batches_per_company = profiles.group_by("company_id").agg(pl.col("batch").n_unique().alias("n"))
    assert batches_per_company["n"].max() == 1
    companies = pl.read_csv(small_world.out_dir / "companies.csv")
    assert set(profiles["company_id"]) <= set(companies["company_id"])
    assert profiles["profile_id"].is_unique().all()


def test_ground_truth_is_consistent(default_world):
    s = default_world
    truth = pl.read_csv(s.out_dir / "truth/company_truth.csv")
    companies = pl.read_csv(s.out_dir / "companies.csv")
    assert truth["company_id"].to_list() == companies["company_id"].to_list()
    assert (truth["headcount"] == companies["headcount"]).all()
    assert (truth["true_ml_in_sample"] <= truth["n_sampled"]).all()
    assert (truth["true_ml_in_sample"] <= truth["true_ml_experts"]).all()
    assert (truth["true_ml_experts"] <= truth["headcount"]).all()
    assert (truth["n_sampled"] <= truth["headcount"]).all()
    assert ((truth["n_sampled"] - truth["true_ml_in_sample"]) <= (truth["headcount"] - truth["true_ml_experts"])).all()
    assert truth.filter(pl.col("prevalence") == 0)["true_ml_experts"].sum() == 0
    nonzero = truth.filter(pl.col("prevalence") > 0)["prevalence"]
    assert nonzero.min() >= 0.005 and nonzero.max() <= 0.40
    assert (truth["prevalence"] == 0).mean() == pytest.approx(0.25, abs=0.02)
    assert nonzero.max() > 0.15  # AI-lab-like companies exist

    profiles = _profiles(s)
    counts = profiles.group_by("company_id").len()
    merged = truth.join(counts, on="company_id", how="left").with_columns(pl.col("len").fill_null(0))
    assert (merged["len"] == merged["n_sampled"]).all()
    assert (truth["n_sampled"] == 0).sum() >= 1  # some companies have no sample, as in the real data

    profile_truth = pl.read_csv(s.out_dir / "truth/profile_truth.csv")
    per_company = profile_truth.group_by("company_id").agg(pl.col("is_ml_expert").sum().alias("k"))
    merged = truth.join(per_company, on="company_id", how="left").with_columns(pl.col("k").fill_null(0))
    assert (merged["k"] == merged["true_ml_in_sample"]).all()
    assert 2_500 <= profiles.height <= 4_500
    assert 50 <= s.row_counts["companies.csv"] <= 70


def test_default_world_profile_texts_have_empty_and_foreign_ones(default_world):
    texts = _profiles(default_world)["profile_text"]
    assert texts.null_count() >= 1  # a few empty texts (labels imported only)
    assert texts.null_count() < 0.02 * texts.len()
    foreign = texts.drop_nulls().str.contains("Entwicklung|Développement|Desarrollo|Desenvolvimento|Análise|Analyse de")
    assert foreign.sum() >= 10
    assert texts.drop_nulls().str.starts_with("Experiences: ").all()


def test_rated_expert_share_matches_real_data(default_world):
    rated = pl.read_csv(default_world.out_dir / "rated_cvs.csv")
    assert rated.height == 600
    assert rated["is_ml_expert"].mean() == pytest.approx(153 / 585, abs=0.005)


def test_annotator_truth_file(small_world):
    truth = json.loads((small_world.out_dir / "truth/annotators.json").read_text())
    assert truth["simulated"] is True
    by_name = {a["name"]: a for a in truth["annotators"]}
    assert by_name["llm_sonnet_4"]["sensitivity"] == 0.588 and by_name["llm_sonnet_4"]["specificity"] == 0.975
    assert set(by_name) == set(LLM_COLUMNS)
    assert 0 < truth["latent_correlation"]["non_expert"] < 1


def test_rejects_meaningless_config(tmp_path):
    with pytest.raises(ValueError):
        generate_demo_world(tmp_path, DemoConfig(n_companies=0))


def test_files_do_not_depend_on_the_process_hash_seed(tmp_path, small_world):
    """String hashing differs between processes; the generator must not let it leak into the files."""
    script = (
        "import sys; from pathlib import Path; from workforce_assets.demo import DemoConfig, generate_demo_world; "
        "generate_demo_world(Path(sys.argv[1]), DemoConfig.small())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "other_process")], check=True, env=env)
    assert read_all_bytes(tmp_path / "other_process") == read_all_bytes(small_world.out_dir)


def test_rated_cvs_repeat_a_few_texts_like_the_real_set(default_world):
    rated = pl.read_csv(default_world.out_dir / "rated_cvs.csv")
    repeated = rated.filter(pl.col("cv_text").is_duplicated())
    assert 2 <= repeated["cv_text"].n_unique() <= 12
    assert (repeated.group_by("cv_text").agg(pl.col("is_ml_expert").n_unique().alias("n"))["n"] == 1).all()
