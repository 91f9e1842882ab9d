"""The Dagster CLI, our CLI and the webserver, as a user drives them, against the materialized demo."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from workforce_assets import warehouse

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env() -> dict:
    return {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}


def test_dg_launch_materializes_one_batch(materialized_demo):
    """The README's one-batch command: `dg launch --assets ... --partition ...` (no supersession warning)."""
    import dagster as dg

    batch = sorted(materialized_demo.instance.get_dynamic_partitions("company_batches"))[-1]
    before = warehouse.read_table(materialized_demo.duckdb_path, "annotation.filter_labels").height
    known = {r.run_id for r in materialized_demo.instance.get_runs()}
    env = {k: v for k, v in _env().items() if k != "VIRTUAL_ENV"}
    proc = subprocess.run(
        [str(BIN / "dg"), "launch", "--assets", "inputs/employee_profiles,annotation/filter_labels", "--partition", batch],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "SupersessionWarning" not in proc.stderr + proc.stdout
    new = [r for r in dg.DagsterInstance.from_config(str(materialized_demo.dagster_home)).get_runs()
           if r.run_id not in known]
    assert [r.status for r in new] == [dg.DagsterRunStatus.SUCCESS] and new[0].tags.get("dagster/partition") == batch
    assert warehouse.read_table(materialized_demo.duckdb_path, "annotation.filter_labels").height == before


def test_workforce_assets_run_fails_loudly_on_a_broken_input(materialized_demo, tmp_path):
    bad = tmp_path / "bad_input"
    bad.mkdir()
    (bad / "rated_cvs.csv").write_text("cv_id,cv_text\n1,no label column\n")
    proc = subprocess.run(
        [str(BIN / "workforce-assets"), "run", "--input-dir", str(bad), "--select", "inputs/rated_cvs",
         "--duckdb", str(tmp_path / "bad.duckdb")],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode != 0
    assert "is_ml_expert" in proc.stdout + proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_webserver_lists_every_asset_over_graphql(materialized_demo):
    from workforce_assets.definitions import defs

    port = _free_port()
    proc = subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-m", "workforce_assets.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()[-3000:]
                assert time.monotonic() < deadline, "webserver did not start"
                time.sleep(1)
        data = _graphql(port, "{ assetNodes { assetKey { path } groupName isPartitioned } }")
        served = {"/".join(n["assetKey"]["path"]) for n in data["data"]["assetNodes"]}
        expected = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
        assert served == expected
        materialized = _graphql(
            port, '{ assetOrError(assetKey: {path: ["headcount", "annotator_parameters"]}) { ... on Asset { assetMaterializations(limit: 1) { runId } } } }'
        )
        assert materialized["data"]["assetOrError"]["assetMaterializations"], "the UI does not see the CLI's runs"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
