"""Issue 10: a killed runner must not block every later run (its run held the only duckdb_writer slot)."""

from __future__ import annotations

import uuid

import dagster as dg

from workforce_assets.pipeline.partitions import DUCKDB_POOL
from workforce_assets.pipeline.runner import LAUNCHER_TAG, ensure_instance, recover_dead_runs, runner_lock


def _dead_run_holding_the_slot(instance) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name="cli_phase_0", run_id=run_id, status=dg.DagsterRunStatus.STARTED,
                                   tags=dict([LAUNCHER_TAG])))
    storage = instance.event_log_storage
    storage.set_concurrency_slots(DUCKDB_POOL, 1)
    assert storage.claim_concurrency_slot(DUCKDB_POOL, run_id, "inputs__companies").is_claimed
    return run_id


def test_next_runner_frees_the_slot_of_a_killed_run(tmp_path):
    instance = ensure_instance(tmp_path / "home")
    dead = _dead_run_holding_the_slot(instance)
    storage = instance.event_log_storage
    assert not storage.claim_concurrency_slot(DUCKDB_POOL, "next-run", "step").is_claimed  # what hung forever
    storage.free_concurrency_slot_for_step("next-run", "step")
    with runner_lock(instance) as alone:
        assert alone
        assert recover_dead_runs(instance, log=lambda _: None) == [dead]
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    assert storage.claim_concurrency_slot(DUCKDB_POOL, "next-run", "step").is_claimed


def test_runs_of_a_live_runner_are_left_alone(tmp_path):
    instance = ensure_instance(tmp_path / "home")
    _dead_run_holding_the_slot(instance)
    with runner_lock(instance) as first, runner_lock(instance) as second:
        assert first and not second  # a second runner sees the first alive and recovers nothing
