"""Issue 10: a killed runner must not block every later run (its run held the only duckdb_writer slot)."""

from __future__ import annotations

import os
import uuid

import pytest

import dagster as dg

from workforce_assets.pipeline.partitions import DUCKDB_POOL
from workforce_assets.pipeline.runner import LAUNCHER_TAG, ensure_instance, recover_dead_runs, runner_lock


def _run_holding_the_slot(instance, status=dg.DagsterRunStatus.STARTED, tags=None, job="cli_phase_0") -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name=job, run_id=run_id, status=status, tags=tags or {}))
    storage = instance.event_log_storage
    storage.set_concurrency_slots(DUCKDB_POOL, 1)
    assert storage.claim_concurrency_slot(DUCKDB_POOL, run_id, "inputs__companies").is_claimed
    return run_id


def _dead_run_holding_the_slot(instance) -> str:
    """A CLI run whose runner was killed."""
    return _run_holding_the_slot(instance, tags=dict([LAUNCHER_TAG]))


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


def _slot_held_by_another_process(instance, status=dg.DagsterRunStatus.STARTED) -> str:
    """A run launched elsewhere (the UI), not by the CLI, holding the only duckdb_writer slot."""
    return _run_holding_the_slot(instance, status=status, job="__ASSET_JOB")


def test_slots_of_finished_runs_are_freed_whoever_launched_them(tmp_path):
    """A UI run whose worker died after the run was marked failed (run monitoring) kept its slot."""
    from workforce_assets.pipeline.runner import free_slots_of_finished_runs

    instance = ensure_instance(tmp_path / "home")
    finished = _slot_held_by_another_process(instance, dg.DagsterRunStatus.FAILURE)
    assert free_slots_of_finished_runs(instance, log=lambda _: None) == [finished]
    assert instance.event_log_storage.claim_concurrency_slot(DUCKDB_POOL, "next-run", "step").is_claimed


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_stops_a_run_waiting_for_a_pool_slot(tmp_path, signal_name):
    """Issue 10: a run waiting for the slot ('Step blocked by limit for pool duckdb_writer') ignored SIGINT and
    SIGTERM. Now the runner names the run that holds the slot, and a signal cancels the waiting run within
    seconds (exit 130, run CANCELED, its slots freed)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from workforce_assets import settings

    home = tmp_path / "home"
    instance = ensure_instance(home)
    holder = _slot_held_by_another_process(instance)
    inputs = tmp_path / "input"
    inputs.mkdir()
    (inputs / "companies.csv").write_text("company_id,company_name,headcount\nc1,Acme,10\n")
    env = dict(os.environ, **{settings.ENV_DAGSTER_HOME: str(home), settings.ENV_DUCKDB_PATH: str(tmp_path / "w.duckdb")})
    process = subprocess.Popen(
        [sys.executable, "-m", "workforce_assets.cli", "run", "--input-dir", str(inputs), "--select", "key:inputs/companies"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    output = ""
    deadline = time.monotonic() + 120
    while "waiting for a pool slot held by" not in output and time.monotonic() < deadline:
        output += process.stdout.readline()
    assert f"run {holder}" in output and "started from the UI" in output, output
    time.sleep(3)  # the run is now blocked on the slot
    sent = time.monotonic()
    process.send_signal(getattr(signal, signal_name))
    rest, _ = process.communicate(timeout=60)
    assert time.monotonic() - sent < 15
    assert process.returncode == 130, output + rest
    assert "marked canceled, its pool slots freed" in rest
    cli_runs = [r for r in instance.get_runs() if r.run_id != holder]
    assert [r.status for r in cli_runs] == [dg.DagsterRunStatus.CANCELED]
    assert instance.get_run_by_id(holder).status == dg.DagsterRunStatus.STARTED  # the other run is left alone


def test_a_ui_run_whose_worker_died_is_failed_and_frees_its_slot(tmp_path):
    """A run launched from the UI whose worker was killed stayed STARTED, holding the slot, for ever."""
    import subprocess
    import sys

    from dagster._core.events import EngineEventData

    from workforce_assets.pipeline.runner import recover_dead_workers

    instance = ensure_instance(tmp_path / "home")
    dead_worker = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_worker.wait()
    dead = _slot_held_by_another_process(instance)
    instance.report_engine_event(f"Started process for run (pid: {dead_worker.pid}).", instance.get_run_by_id(dead),
                                 EngineEventData.in_process(dead_worker.pid))
    alive = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", run_id=alive, status=dg.DagsterRunStatus.STARTED))
    instance.report_engine_event(f"Started process for run (pid: {os.getpid()}).", instance.get_run_by_id(alive),
                                 EngineEventData.in_process(os.getpid()))
    assert recover_dead_workers(instance, log=lambda _: None) == [dead]
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(alive).status == dg.DagsterRunStatus.STARTED  # a live worker is left alone
    assert instance.event_log_storage.claim_concurrency_slot(DUCKDB_POOL, "next-run", "step").is_claimed
