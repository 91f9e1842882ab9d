"""The whole graph on a small simulated demo world: tables, contract columns, checks, idempotent partitions."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from workforce_assets import warehouse

pytestmark = pytest.mark.slow

CONTRACT = {
    "inputs.rated_cvs": {"cv_id", "cv_text", "is_ml_expert"},
    "inputs.companies": {"company_id", "company_name", "headcount"},
    "inputs.employee_profiles": {"profile_id", "company_id", "batch", "profile_text"},
    "inputs.job_records": {"employer_name", "job_title", "worksite_state", "annual_wage", "source_file", "row_number"},
    "inputs.quarantine": {"source", "row_number", "reason", "raw"},
    "headcount.annotator_parameters": {"annotator", "sensitivity", "specificity", "n_pos", "n_neg"},
    "headcount.company_posteriors": {"company_id", "n_sampled", "headcount", "mean", "q10", "q50", "q90"},
    "headcount.log_debias": {"company_id", "estimate", "lower80", "upper80"},
    "labor.archetype_matrix": {"company_id", "role", "seniority", "state", "n_records"},
    "labor.roles": {"role_code", "role", "role_level", "broad_group", "major_group", "n_records"},
    "labor.job_roles": {"role", "role_code", "role_source", "role_confidence", "seniority", "seniority_source"},
    "labor.archetype_eval": {"method", "metric", "value"},
    "labor.salary_eval": {"method", "metric", "value"},
    "labor.headcount_eval": {"method", "metric", "value"},
    # issue 11: outside checks read these names
    "profiles.clusters": {"cluster_id", "label", "size"},
    "profiles.affiliations": {"profile_id", "company_id", "organisation", "category"},
    "planning.sampling_plan": {"company_id", "width_now", "width_after_10", "width_after_50", "width_after_200",
                               "planned_additional", "planned_cost_usd", "priority"},
    "planning.rating_plan": {"rank", "item_id", "company_id", "pattern", "expected_reduction"},
}


def test_profile_and_planning_tables_describe_the_demo_world(materialized_demo):
    """Issue 11 on the demo: every text clustered once, categories from the contract's four, each sampled
    company summarised, the sampling plan within its budget and the rating plan ranked."""
    db = materialized_demo.duckdb_path
    clusters = _table(db, "profiles.clusters")
    members = _table(db, "profiles.cluster_members")
    profiles = _table(db, "inputs.employee_profiles")
    with_text = profiles.filter(pl.col("profile_text").str.strip_chars() != "")
    assert clusters["size"].sum() == members.height
    assert members.filter(pl.col("source") == "profile").height == with_text.height
    assert clusters["label"].null_count() == 0 and (clusters["label"].str.len_chars() > 0).all()
    assert set(_table(db, "profiles.affiliations")["category"].unique()) <= {
        "academic", "industry_lab", "company", "government_nonprofit"}
    summary = _table(db, "profiles.company_affiliations")
    assert set(summary["company_id"]) == set(profiles["company_id"])
    plan = _table(db, "planning.sampling_plan")
    assert plan["planned_cost_usd"].sum() <= 50.0 + 1e-9  # the default budget
    assert (plan["width_after_200"] <= plan["width_now"] + 1e-9).all()
    ranks = _table(db, "planning.rating_plan")["rank"].to_list()
    assert ranks == list(range(1, len(ranks) + 1)) and ranks
    rated = set(_table(db, "inputs.rated_cvs")["cv_id"])
    assert not set(_table(db, "planning.rating_plan")["item_id"]) & rated


def _table(db, name: str) -> pl.DataFrame:
    return warehouse.read_table(db, name)


def test_every_run_succeeds(materialized_demo):
    report = materialized_demo.report
    assert report.runs, "nothing ran"
    assert report.failed == [], report.failed


@pytest.mark.parametrize("table,columns", sorted(CONTRACT.items()))
def test_contract_tables_have_their_columns(materialized_demo, table, columns):
    frame = _table(materialized_demo.duckdb_path, table)
    assert columns <= set(frame.columns), f"{table} lacks {columns - set(frame.columns)}"
    assert frame.height > 0


def test_every_input_row_is_loaded_or_quarantined(materialized_demo):
    db = materialized_demo.duckdb_path
    raw_jobs = sum(
        pl.read_csv(p, infer_schema=False).height for p in (materialized_demo.input_dir / "jobs").glob("*.csv")
    )
    loaded = _table(db, "inputs.job_records").height
    quarantined = _table(db, "inputs.quarantine").filter(pl.col("asset") == "job_records").height
    assert loaded + quarantined == raw_jobs
    assert quarantined > 0, "the demo world has broken job rows; they must appear in the quarantine"
    assert set(_table(db, "inputs.job_records")["worksite_state"].unique()) <= _usps_codes() | {"UNK"}


def _usps_codes() -> set[str]:
    from workforce_assets.ingestion import normalize

    return set(normalize.STATE_CODES.values())


def test_posteriors_cover_every_sampled_company_and_are_coherent(materialized_demo):
    db = materialized_demo.duckdb_path
    posteriors = _table(db, "headcount.company_posteriors")
    profiles = _table(db, "inputs.employee_profiles")
    assert set(posteriors["company_id"]) == set(profiles["company_id"])
    assert (posteriors["q05"] <= posteriors["q50"]).all() and (posteriors["q50"] <= posteriors["q95"]).all()
    assert (posteriors["q95"] <= posteriors["headcount"]).all()


def test_posterior_intervals_mostly_contain_the_simulated_truth(materialized_demo):
    db = materialized_demo.duckdb_path
    truth = pl.read_csv(materialized_demo.input_dir / "truth" / "company_truth.csv", infer_schema=False).select(
        "company_id", pl.col("true_ml_experts").cast(pl.Int64)
    )
    joined = _table(db, "headcount.company_posteriors").join(truth, on="company_id")
    inside = ((joined["q05"] <= joined["true_ml_experts"]) & (joined["true_ml_experts"] <= joined["q95"])).mean()
    assert joined.height >= 8
    assert inside >= 0.6, f"only {inside:.0%} of 90% intervals contain the truth"


def _row_counts(db) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        tables = conn.execute("select table_schema || '.' || table_name from information_schema.tables "
                              "where table_type = 'BASE TABLE' order by 1").fetchall()
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for (t,) in tables}


def test_rerunning_every_asset_changes_no_table_row_count(materialized_demo):
    """Issue 10: every asset materialized a second time (every batch, the whole graph): no table grows or
    shrinks (annotation_matrix_long grew by 861 duplicated pairs per rerun before)."""
    from workforce_assets.pipeline.runner import materialize

    db = materialized_demo.duckdb_path
    before = _row_counts(db)
    assert len(before) >= 30 and sum(before.values()) > 0
    long = _table(db, "annotation.annotation_matrix_long")
    assert "batch_right" not in long.columns and long["batch"].null_count() == 0
    report = materialize(materialized_demo.input_dir, duckdb_path=db, instance=materialized_demo.instance, force=True)
    assert report.success, report.failed and report.skipped == 0
    assert _row_counts(db) == before
    long = _table(db, "annotation.annotation_matrix_long")
    assert long.select("item_id", "annotator").is_duplicated().sum() == 0


def test_runs_and_materializations_are_recorded_in_the_instance(materialized_demo):
    import dagster as dg

    instance = materialized_demo.instance
    assert len(instance.get_runs()) >= 3
    event = instance.get_latest_materialization_event(dg.AssetKey(["headcount", "annotator_parameters"]))
    assert event is not None
    partitions = instance.get_dynamic_partitions("company_batches")
    assert partitions and set(partitions) == set(_table(materialized_demo.duckdb_path, "inputs.employee_profiles")["batch"].unique())


def test_joint_posterior_is_fitted_once_and_reused(materialized_demo):
    """The joint fit is an asset of the graph: materialised once per full run, and both batches'
    company_posteriors and the totals read its draws (no hidden cache)."""
    import dagster as dg

    instance = materialized_demo.instance
    assert len(instance.get_dynamic_partitions("company_batches")) == 2
    fits = instance.fetch_materializations(dg.AssetKey(["headcount", "joint_fit"]), limit=100).records
    batches = instance.fetch_materializations(dg.AssetKey(["headcount", "company_posteriors"]), limit=100).records
    assert len(fits) >= 1 and len(batches) >= 2
    # every batch materialisation read a joint fit made before it
    first_fit = min(r.timestamp for r in fits)
    assert all(r.timestamp > first_fit for r in batches)
    db = materialized_demo.duckdb_path
    joint = _table(db, "headcount.joint_draws")
    assert joint["company_id"].n_unique() == joint.height  # replaced, never grows with stale fits
    stored = _table(db, "headcount.posterior_draws")
    by_company = dict(zip(joint["company_id"].to_list(), joint["draws"].to_list()))
    assert stored.height > 0
    assert all(by_company[c] == d for c, d in zip(stored["company_id"].to_list(), stored["draws"].to_list()))


def _materialized_keys(instance, report) -> set[str]:
    keys = set()
    for run in report.runs:
        for event in instance.all_logs(run["run_id"], of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            keys.add(event.dagster_event.asset_key.to_user_string())
    return keys


def test_a_rerun_with_nothing_changed_skips_what_is_up_to_date(materialized_demo):
    """Issue 13: `workforce-assets run` skips assets whose code version and parent data versions did not change
    (the loaders and LLM labellers run: files and answers are hashed); --force recomputes."""
    import time

    from workforce_assets.pipeline.runner import materialize

    started = time.perf_counter()
    report = materialize(materialized_demo.input_dir, duckdb_path=materialized_demo.duckdb_path,
                         instance=materialized_demo.instance)
    elapsed = time.perf_counter() - started
    assert report.success, report.failed
    ran = _materialized_keys(materialized_demo.instance, report)
    assert report.skipped > 20
    assert not ran & {"annotation/keyword_lists", "headcount/joint_fit", "headcount/company_posteriors",
                      "labor/archetype_model", "labor/salary_model", "reports/headcount_report"}, ran
    assert {"inputs/rated_cvs", "inputs/employee_profiles"} <= ran  # the loaders always run
    print(f"rerun with nothing changed: {elapsed:.1f} s, {len(report.runs)} runs, {report.skipped} skipped")

    # a batch file changes without changing its rows (blank lines: new file hash, same profiles): the batch's
    # labellers and matrix run (the file changed) but report the same content, so the joint fit stays fresh
    last_batch = sorted((materialized_demo.input_dir / "profiles").glob("*.csv"))[-1]
    original = last_batch.read_bytes()
    last_batch.write_bytes(original + b"\n\n")
    report = materialize(materialized_demo.input_dir, duckdb_path=materialized_demo.duckdb_path,
                         instance=materialized_demo.instance)
    assert report.success, report.failed
    ran = _materialized_keys(materialized_demo.instance, report)
    assert {"inputs/employee_profiles", "annotation/annotation_matrix"} <= ran, ran
    assert not ran & {"headcount/joint_fit", "headcount/company_posteriors"}, ran

    # its rows change (a loaded profile removed): what depends on it reruns, the rest does not
    rows = pl.read_csv(last_batch, infer_schema=False)
    loaded = set(_table(materialized_demo.duckdb_path, "annotation.annotation_matrix")["item_id"])
    gone = next(p for p in rows["profile_id"].to_list() if p in loaded)
    rows.filter(pl.col("profile_id") != gone).write_csv(last_batch)
    try:
        report = materialize(materialized_demo.input_dir, duckdb_path=materialized_demo.duckdb_path,
                             instance=materialized_demo.instance)
        assert report.success, report.failed
        ran = _materialized_keys(materialized_demo.instance, report)
        assert {"headcount/joint_fit", "headcount/company_posteriors", "headcount/headcount_totals"} <= ran, ran
        assert not ran & {"annotation/keyword_lists", "labor/archetype_model", "labor/salary_model"}, ran
    finally:  # the tests after this one read the demo world as generated
        last_batch.write_bytes(original)
        restored = materialize(materialized_demo.input_dir, duckdb_path=materialized_demo.duckdb_path,
                               instance=materialized_demo.instance)
        assert restored.success, restored.failed


def test_cli_runs_belong_to_jobs_of_the_definitions_and_re_execute(materialized_demo):
    """Issue 13: the CLI's runs were filed under cli_phase_N jobs the definitions did not contain ("Pipeline
    not found", Re-execute disabled). Now they use the definitions' jobs and re-execute as from the UI."""
    import dagster as dg

    from workforce_assets.definitions import defs
    from workforce_assets_tests.pipeline import reexecution_target

    instance = materialized_demo.instance
    runs = instance.get_runs()
    assert runs and {r.job_name for r in runs} <= {"shared_assets_job", "company_batch_job", "company_posteriors_job"}
    for name in {r.job_name for r in runs}:
        assert defs.resolve_job_def(name) is not None
    parent = next(r for r in runs if r.job_name == "shared_assets_job"
                  and dg.AssetKey(["inputs", "companies"]) in (r.asset_selection or set()))
    result = dg.execute_job(
        dg.reconstructable(reexecution_target.shared_assets_job), instance=instance,
        reexecution_options=dg.ReexecutionOptions(parent_run_id=parent.run_id, step_selection=["inputs__companies"]),
    )
    assert result.success
    assert instance.get_run_by_id(result.run_id).parent_run_id == parent.run_id


def _requested(result, defs) -> dict[str, set]:
    """Asset -> requested partitions ({None} when unpartitioned) of one automation evaluation."""
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return {key.to_user_string(): set(result.get_requested_partitions(key))
            for key in keys if result.get_num_requested(key)}


def test_a_changed_batch_file_requests_that_batch_and_what_depends_on_it_once(materialized_demo):
    """Issue 13: declarative automation. After a full run, a changed batch file leads, tick by tick, to exactly
    that batch's assets, the joint fit and log-debias (they read every batch), every batch's posteriors (the
    joint fit changes them all), the totals, the report, the quarantine view, the profile clusters and
    affiliations and the two plans, each requested once; then nothing more.

    Runs are emulated by reporting the requested materializations (runless events): what is tested is which
    assets automation asks for, not their computation (the rest of this file tests that)."""
    import dagster as dg

    from workforce_assets.pipeline.definitions import build_definitions
    from workforce_assets.pipeline.ingestion_assets import changed_profile_file_events

    instance, inputs = materialized_demo.instance, materialized_demo.input_dir
    defs = build_definitions(input_dir=inputs, duckdb_path=materialized_demo.duckdb_path)
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert _requested(result, defs) == {}  # after a full run nothing is due
    batches = sorted(p.stem for p in (inputs / "profiles").glob("*.csv"))
    target = inputs / "profiles" / f"{batches[0]}.csv"
    original = target.read_bytes()
    requested: list[tuple[str, str | None]] = []
    try:
        target.write_bytes(original + b"\n")  # the file changed (a blank line more)
        for event in changed_profile_file_events(instance, inputs):
            instance.report_runless_asset_event(event)
        for _tick in range(10):
            result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
            tick = _requested(result, defs)
            if not tick:
                break
            for key, partitions in tick.items():
                for partition in partitions:
                    requested.append((key, partition))
                    instance.report_runless_asset_event(
                        dg.AssetMaterialization(asset_key=dg.AssetKey.from_user_string(key), partition=partition))
        else:
            raise AssertionError(f"automation did not settle: {requested}")
    finally:
        target.write_bytes(original)
    assert len(requested) == len(set(requested)), "an asset partition was requested twice"
    changed_batch = {(f"{k}", batches[0]) for k in ("inputs/employee_profiles", "annotation/filter_labels",
                                                     "annotation/llm_labels", "annotation/annotation_matrix")}
    assert set(requested) == changed_batch | {("headcount/company_posteriors", b) for b in batches} | {
        ("headcount/joint_fit", None), ("headcount/log_debias", None), ("headcount/headcount_totals", None),
        ("reports/headcount_report", None), ("inputs/quarantine", None),  # the batch's rejects are in the view
        # issue 11: the profile texts changed (clusters, affiliations) and so did the joint fit (the plans)
        ("profiles/clusters", None), ("profiles/affiliations", None),
        ("planning/sampling_plan", None), ("planning/rating_plan", None)}
