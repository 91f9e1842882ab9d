"""Job files the published layouts do not know, and models without a training set, in real Dagster runs."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from workforce_assets import warehouse

pytestmark = pytest.mark.slow

HEADER = "employer_name,job_title,worksite_state,wage_rate,wage_unit,case_status\n"


def _inputs(root: Path, jobs: dict[str, str]) -> Path:
    inputs = root / "input"
    (inputs / "profiles").mkdir(parents=True)
    (inputs / "jobs").mkdir()
    for name, text in jobs.items():
        (inputs / "jobs" / name).write_text(text)
    return inputs


def _check(instance: dg.DagsterInstance, asset: list[str], name: str):
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(asset), name)])
    return next(iter(records.values())).event.dagster_event.event_specific_data


def _rows(n: int, status: str) -> str:
    return "".join(f"Employer {i % 7},Software Engineer {i % 3},TX,{90000 + i},Year,{status}\n" for i in range(n))


def test_an_unrecognised_file_is_quarantined_and_reported_while_the_others_load(tmp_path):
    from workforce_assets.pipeline.runner import materialize

    inputs = _inputs(tmp_path, {"good.csv": HEADER + _rows(20, "Certified"), "notes.csv": "id,comment\n1,hello\n"})
    db = tmp_path / "w.duckdb"
    with dg.instance_for_test() as instance:
        report = materialize(inputs, selection="key:inputs/job_records", duckdb_path=db, instance=instance)
        # the run itself succeeds (the good file's rows are published); the failed check makes the CLI exit 1
        assert [r["success"] for r in report.runs] == [True]
        assert report.runs[0]["failed_checks"] == ["inputs/job_records:job_files_recognised"]
        check = _check(instance, ["inputs", "job_records"], "job_files_recognised")
    assert not check.passed and "notes.csv: no column found for employer_name, job_title" in check.description
    assert warehouse.read_table(db, "inputs.job_records").height == 20
    rejects = warehouse.read_table(db, "inputs.rejects_job_records")
    assert rejects["source"].to_list() == ["jobs/notes.csv"]


def test_a_model_without_a_training_set_fails_its_check_and_the_run(tmp_path):
    from workforce_assets.pipeline.runner import materialize

    inputs = _inputs(tmp_path, {"denied.csv": HEADER + _rows(40, "Denied")})
    with dg.instance_for_test() as instance:
        report = materialize(inputs, selection="key:inputs/job_records or key:labor/role_model or key:labor/job_roles or key:labor/archetype_matrix or "
                             "key:labor/archetype_model", duckdb_path=tmp_path / "w.duckdb", instance=instance)
        assert not report.success
        check = _check(instance, ["labor", "archetype_model"], "training_set_sufficient")
    assert not check.passed
    assert "0 of 40 job records are usable for training (left out: 40 not certified)" in check.description


def test_records_without_a_status_column_train_the_models(tmp_path):
    from workforce_assets.pipeline.runner import materialize

    header = "employer_name,job_title,worksite_state,wage_rate,wage_unit\n"
    rows = "".join(f"Employer {i % 7},Software Engineer {i % 3},TX,{90000 + i},Year\n" for i in range(40))
    inputs = _inputs(tmp_path, {"no_status.csv": header + rows})
    with dg.instance_for_test() as instance:
        report = materialize(inputs, selection="key:inputs/job_records or key:labor/role_model or key:labor/job_roles or key:labor/archetype_matrix or "
                             "key:labor/archetype_model", duckdb_path=tmp_path / "w.duckdb", instance=instance)
        assert report.success, report.failed
        check = _check(instance, ["labor", "archetype_model"], "training_set_sufficient")
        materialization = instance.get_latest_materialization_event(dg.AssetKey(["inputs", "job_records"]))
    assert check.passed
    assert materialization.asset_materialization.metadata["n_status_unknown"].value == 40
