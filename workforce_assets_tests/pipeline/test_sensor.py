"""A new profiles file becomes a partition; a new or changed file is recorded (its content hash)."""

from __future__ import annotations

import dagster as dg


def _write_batch(profiles, name: str, text: str = "hello") -> None:
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / f"{name}.csv").write_text(f"profile_id,company_id,profile_text\np1,c1,{text}\n")


def _apply(instance, result) -> None:
    """What the sensor daemon does with a sensor result."""
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions("company_batches", list(request.partition_keys))
    for event in result.asset_events:
        instance.report_runless_asset_event(event)


def test_sensor_registers_new_batches_and_records_new_or_changed_files(tmp_path, monkeypatch):
    from workforce_assets.pipeline.automation import new_company_batches

    monkeypatch.setenv("WORKFORCE_INPUT_DIR", str(tmp_path))
    _write_batch(tmp_path / "profiles", "batch_a")
    with dg.instance_for_test() as instance:
        result = new_company_batches(dg.build_sensor_context(instance=instance))
        assert result.dynamic_partitions_requests[0].partition_keys == ["batch_a"]
        assert [e.partition for e in result.asset_events] == ["batch_a"]
        assert not result.run_requests  # runs are automation's decision (workforce_automation)
        _apply(instance, result)

        assert isinstance(new_company_batches(dg.build_sensor_context(instance=instance)), dg.SkipReason)

        _write_batch(tmp_path / "profiles", "batch_b")
        _write_batch(tmp_path / "profiles", "batch_a", "changed text")
        result = new_company_batches(dg.build_sensor_context(instance=instance))
        assert result.dynamic_partitions_requests[0].partition_keys == ["batch_b"]
        assert sorted(e.partition for e in result.asset_events) == ["batch_a", "batch_b"]
