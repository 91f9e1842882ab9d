"""`workforce-assets run` on the real public data laid out by the contract (../shared/data)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from workforce_assets import warehouse

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def real_run(shared_data, tmp_path_factory, isolated_env):
    root = tmp_path_factory.mktemp("real")
    input_dir = root / "input"
    subprocess.run([str(BIN / "workforce-assets"), "arrange-shared", "--shared", str(shared_data), "--out", str(input_dir)],
                   check=True, capture_output=True, timeout=120)
    db = root / "warehouse.duckdb"
    env = {**__import__("os").environ, "DAGSTER_HOME": str(root / "home"), "WORKFORCE_POSTERIOR_DRAWS": "400"}
    proc = subprocess.run(
        [str(BIN / "workforce-assets"), "run", "--input-dir", str(input_dir), "--duckdb", str(db)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1800,
    )
    return proc, db


def test_real_run_succeeds(real_run):
    proc, _ = real_run
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]


def test_every_real_job_row_is_accounted_for(real_run):
    _, db = real_run
    loaded = warehouse.read_table(db, "inputs.job_records").height
    rejected = warehouse.read_table(db, "inputs.quarantine").filter(pl.col("asset") == "job_records").height
    # ten H-2 files + the H-1B extract, counted independently by the loader tests, less the H-1B extract's one
    # blank record (a row of empty cells: skipped and counted in n_blank_lines, not a row read)
    assert loaded + rejected == 117_844
    assert rejected < 100


def test_twelve_labs_get_posteriors_and_six_unsampled_get_flagged_priors(real_run):
    _, db = real_run
    posteriors = warehouse.read_table(db, "headcount.company_posteriors")
    assert posteriors.height == 12
    assert posteriors["n_sampled"].sum() == 11_205
    unsampled = warehouse.read_table(db, "headcount.unsampled_company_posteriors")
    assert unsampled.height == 6 and unsampled["prior_only"].all()
    params = warehouse.read_table(db, "headcount.annotator_parameters")
    # names aligned, not positions: the comparator's llm_gemini_2_5_flash is the rated CVs' llm_gemini-2.5-flash
    assert {"llm_gemini_2_5_flash", "llm_sonnet_4", "llm_gpt_5_mini", "filter_broad_yes"} <= set(params["annotator"])


def test_real_run_excludes_the_filters_and_keeps_the_extrapolated_labs_out_of_the_default_total(real_run):
    """Issue 9 on the real data, through the pipeline: the keyword filters fail the transport check and are
    left out (default policy), with the reason and both estimates stored; Amazon (540,000 employees, no
    sample, no sampled lab above 6,500) is extrapolated and not in the default total."""
    _, db = real_run
    transport = warehouse.read_table(db, "headcount.annotator_transport")
    excluded = set(transport.filter(pl.col("excluded"))["annotator"].to_list())
    assert {"filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"} <= excluded
    assert "llm_sonnet_4" not in excluded
    assert transport.filter(pl.col("excluded"))["reason"].str.len_chars().min() > 20
    comparison = warehouse.read_table(db, "headcount.transport_comparison")
    assert {"q50_retained", "q50_all_annotators"} <= set(comparison.columns) and comparison.height == 18
    joint = warehouse.read_table(db, "headcount.joint_estimate")
    amazon = joint.filter(pl.col("company_id") == "amazonscience").row(0, named=True)
    assert amazon["prior_only"] and amazon["extrapolated"]
    totals = warehouse.read_table(db, "headcount.headcount_totals")
    parts = {r["group"]: r["mean"] for r in totals.filter(pl.col("grouping") == "part").iter_rows(named=True)}
    default = totals.filter(pl.col("grouping") == "all")["mean"].item()
    everything = totals.filter(pl.col("grouping") == "all_including_extrapolated")["mean"].item()
    assert parts["extrapolated"] > 0 and abs(default + parts["extrapolated"] - everything) < 1e-6 * everything + 1


def test_real_texts_are_clustered_and_the_labs_get_plans(real_run):
    """Issue 11 on the real data: the 1,859 unlabelled profile texts and the 585 rated CVs are clustered (the
    lab profiles' texts were never published: they count as without text), every cluster is labelled, the
    clusters separate rated experts from non-experts, and the plans cover the labs."""
    _, db = real_run
    members = warehouse.read_table(db, "profiles.cluster_members")
    assert members.filter(pl.col("source") == "rated_cv").height == 585
    assert members.filter(pl.col("source") == "unlabeled").height > 1_800
    clusters = warehouse.read_table(db, "profiles.clusters")
    assert clusters.height >= 2 and clusters["label"].null_count() == 0
    shares = clusters.filter(pl.col("n_rated_cvs") >= 30)["rated_expert_share"]
    assert shares.max() - shares.min() > 0.2  # clusters differ in how many rated CVs are experts
    assert warehouse.read_table(db, "profiles.affiliations").height == 0  # no lab profile text
    plan = warehouse.read_table(db, "planning.sampling_plan")
    assert set(warehouse.read_table(db, "headcount.company_posteriors")["company_id"]) <= set(plan["company_id"])
    assert warehouse.read_table(db, "planning.rating_plan").height > 0
