"""Fault injection with real processes: `workforce-assets run` killed (SIGKILL) at several points and rerun,
and two runs at once on one warehouse and one Dagster home. Each ends with the warehouse a clean run leaves.
(Vendor faults: annotation/test_llm_faults.py; a run waiting for a slot: test_recovery.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from workforce_assets import settings

pytestmark = pytest.mark.slow

SELECTION = "group:inputs"


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory) -> Path:
    from workforce_assets.demo import DemoConfig, generate_demo_world

    folder = tmp_path_factory.mktemp("fault_demo") / "input"
    generate_demo_world(folder, DemoConfig.small())
    return folder


def _command(inputs: Path) -> list[str]:
    return [sys.executable, "-m", "workforce_assets.cli", "run", "--input-dir", str(inputs), "--select", SELECTION]


def _env(root: Path) -> dict:
    return dict(os.environ, **{settings.ENV_DAGSTER_HOME: str(root / "home"),
                               settings.ENV_DUCKDB_PATH: str(root / "warehouse.duckdb")})


def _run(inputs: Path, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(_command(inputs), env=_env(root), capture_output=True, text=True, timeout=600)


def _contents(db: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every table (what a reader of the warehouse sees)."""
    with duckdb.connect(str(db), read_only=True) as conn:
        tables = [t for (t,) in conn.execute("select table_schema || '.' || table_name from information_schema.tables "
                                              "where table_type = 'BASE TABLE' order by 1").fetchall()]
        return {t: conn.execute(f"select count(*), coalesce(sum(hash(columns(*))), 0) from (select * from {t}) as x"
                                ).fetchone()[:2] for t in tables}


@pytest.fixture(scope="module")
def reference(demo_inputs, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("reference")
    done = _run(demo_inputs, root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return _contents(root / "warehouse.duckdb")


def _wait_for_run_in_progress(home: Path, count: int, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until the Dagster instance at ``home`` records ``count`` runs and the newest is unfinished (read from
    another process, as the UI does). A batch's run can finish within half a second: a kill timed by a fixed
    sleep after the run appeared once landed between runs, and there was nothing for the next run to recover."""
    import dagster as dg

    from workforce_assets.pipeline.runner import UNFINISHED

    deadline = time.monotonic() + timeout
    with dg.DagsterInstance.from_config(str(home)) as instance:
        while time.monotonic() < deadline and process.poll() is None:
            runs = instance.get_runs()  # newest first
            if len(runs) >= count and runs[0].status in UNFINISHED:
                return
            time.sleep(0.02)
    raise AssertionError(f"the runner did not have run {count} in progress within {timeout:.0f} s "
                         f"(exit code {process.poll()})")


@pytest.mark.parametrize("kill_after", ["phase 0:", "phase 1 [", "  ok (run"])
def test_a_run_killed_at_any_point_is_repaired_by_the_next_run(demo_inputs, reference, tmp_path, kill_after):
    process = subprocess.Popen(_command(demo_inputs), env=_env(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    seen = ""
    deadline = time.monotonic() + 300
    while kill_after not in seen and time.monotonic() < deadline and process.poll() is None:
        seen += process.stdout.readline()
    assert kill_after in seen, seen
    if kill_after != "  ok (run":
        # kill inside a run: as soon as the run this phase launches is recorded and not finished
        _wait_for_run_in_progress(tmp_path / "home", seen.count("  ok (run") + 1, process)
    else:
        time.sleep(0.5)  # between runs: the next one may or may not have been created
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    rerun = _run(demo_inputs, tmp_path)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    if kill_after != "  ok (run":  # killed inside a run: the next runner found it and freed its slot
        assert "recovered run" in rerun.stdout, rerun.stdout[-3000:]
    assert _contents(tmp_path / "warehouse.duckdb") == reference


def test_two_runs_at_once_on_one_warehouse_both_succeed(demo_inputs, reference, tmp_path):
    processes = [subprocess.Popen(_command(demo_inputs), env=_env(tmp_path), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], "\n---\n".join(o[-3000:] for o in outputs)
    assert _contents(tmp_path / "warehouse.duckdb") == reference
