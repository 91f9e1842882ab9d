"""A new profiles file becomes a partition and a run request for its batch only."""

from __future__ import annotations

from datetime import datetime

import dagster as dg


def _write_batch(profiles, name: str) -> None:
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / f"{name}.csv").write_text("profile_id,company_id,profile_text\np1,c1,hello\n")


def test_sensor_registers_only_new_batches(tmp_path, monkeypatch):
    from workforce_assets.pipeline.automation import new_company_batches

    monkeypatch.setenv("WORKFORCE_INPUT_DIR", str(tmp_path))
    _write_batch(tmp_path / "profiles", "batch_a")
    instance = dg.DagsterInstance.ephemeral()

    result = new_company_batches(dg.build_sensor_context(instance=instance))
    assert [r.partition_key for r in result.run_requests] == ["batch_a"]
    assert result.dynamic_partitions_requests[0].partition_keys == ["batch_a"]
    instance.add_dynamic_partitions("company_batches", ["batch_a"])

    skipped = new_company_batches(dg.build_sensor_context(instance=instance))
    assert isinstance(skipped, dg.SkipReason)

    _write_batch(tmp_path / "profiles", "batch_b")
    result = new_company_batches(dg.build_sensor_context(instance=instance))
    assert [r.partition_key for r in result.run_requests] == ["batch_b"]


def test_weekly_schedule_requests_every_registered_batch():
    from workforce_assets.pipeline.automation import weekly_batch_backfill

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("company_batches", ["b1", "b2"])
        requests = list(weekly_batch_backfill(dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 11, 22, 3))))
    assert sorted(r.partition_key for r in requests) == ["b1", "b2"]
