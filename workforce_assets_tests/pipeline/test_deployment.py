"""Beyond one machine (issue 14): the warehouse on DuckLake, the Dagster instance on Postgres, the multi-node
configuration; and the scale-out path run for real: a throwaway Postgres cluster holds both the Dagster
instance and the DuckLake catalog, two runs of different batches write at once, and every table equals the
one the DuckDB-file backend produces on the same input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workforce_assets import settings, warehouse
from workforce_assets_tests.postgres_cluster import throwaway_postgres

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "workforce-assets")
DAGSTER = str(Path(sys.executable).parent / "dagster")
BATCH_ASSETS = "inputs/employee_profiles,annotation/filter_labels,annotation/annotation_matrix,headcount/company_posteriors"
# what differs between two runs by nature (when, where on disk), never by result
VOLATILE_COLUMNS = {"trained_at", "path", "model_path", "run_id", "computed_at", "loaded_at", "created_at"}


# --- the DuckLake backend on its own (SQLite catalog: no server needed) -----------------------------------

def _lake(root: Path) -> warehouse.DuckLake:
    return warehouse.DuckLake(f"sqlite:{root / 'catalog.sqlite'}", str(root / "data"))


def test_ducklake_tables_replace_partitions_atomically(tmp_path):
    lake = _lake(tmp_path)
    warehouse.write_table(lake, "s.t", pl.DataFrame({"batch": ["a", "a", "b"], "v": [1, 2, 3]}))
    warehouse.write_table(lake, "s.t", pl.DataFrame({"batch": ["a"], "v": [10]}), "batch", "a")
    assert warehouse.read_table(lake, "s.t").sort("v")["v"].to_list() == [3, 10]
    # a failure inside the transaction (a value the column cannot hold) leaves both tables as they were
    warehouse.write_table(lake, "s.u", pl.DataFrame({"batch": ["a"], "x": [1]}))
    with pytest.raises(Exception):
        warehouse.write_tables(lake, [("s.t", pl.DataFrame({"batch": ["b"], "v": [99]}), "batch", "b"),
                                      ("s.u", pl.DataFrame({"batch": ["a"], "x": ["not a number"]}), "batch", "a")])
    assert warehouse.read_table(lake, "s.t").sort("v")["v"].to_list() == [3, 10]
    assert warehouse.read_table(lake, "s.u")["x"].to_list() == [1]
    # the data are Parquet files under the data path (small writes may be inlined in the catalog), the
    # catalog a SQLite file
    warehouse.write_table(lake, "s.big", pl.DataFrame({"v": range(5000)}))
    assert list((tmp_path / "data").rglob("*.parquet")) and (tmp_path / "catalog.sqlite").exists()
    with pytest.raises(LookupError, match="materialize its asset first"):
        warehouse.read_table(lake, "s.missing")


def _write_partition(args):
    root, batch = args
    lake = _lake(Path(root))
    for i in range(5):
        warehouse.write_table(lake, "s.t", pl.DataFrame({"batch": [batch] * 3, "v": [i] * 3}), "batch", batch)
    return batch


def test_two_processes_replace_different_partitions_of_one_ducklake_table_at_once(tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    warehouse.write_table(_lake(tmp_path), "s.t", pl.DataFrame({"batch": ["a", "b"], "v": [-1, -1]}))
    # fresh interpreters (spawn): a fork of this multi-threaded process could inherit a held lock
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert sorted(pool.map(_write_partition, [(str(tmp_path), "a"), (str(tmp_path), "b")], timeout=120)) == ["a", "b"]
    final = warehouse.read_table(_lake(tmp_path), "s.t")
    assert final.group_by("batch").agg(pl.len(), pl.col("v").max()).sort("batch").rows() == [("a", 3, 4), ("b", 3, 4)]


def test_warehouse_settings_are_checked_before_any_run(monkeypatch):
    monkeypatch.delenv(settings.ENV_WAREHOUSE, raising=False)
    assert settings.warehouse_settings() == {"backend": "duckdb"}
    monkeypatch.setenv(settings.ENV_WAREHOUSE, "ducklake")
    monkeypatch.delenv(settings.ENV_DUCKLAKE_CATALOG, raising=False)
    monkeypatch.setenv(settings.ENV_DUCKLAKE_DATA_PATH, "/tmp/x")
    with pytest.raises(ValueError, match="WORKFORCE_DUCKLAKE_CATALOG"):
        settings.warehouse_settings()
    monkeypatch.setenv(settings.ENV_WAREHOUSE, "parquet")
    with pytest.raises(ValueError, match="duckdb"):
        settings.warehouse_settings()
    with pytest.raises(ValueError, match="postgres:"):
        warehouse.DuckLake("mysql:db=x", "/tmp/x")


# --- the instance configurations that docs/deployment.md hands to a platform engineer ---------------------

def _instance_config(path: Path, tmp_path: Path, monkeypatch) -> dict:
    from dagster._core.instance.config import dagster_instance_config

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(path, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", "postgresql://wf:secret@127.0.0.1:5432/dagster")
    monkeypatch.setenv("WORKFORCE_IMAGE", "registry.example/workforce-assets:1")
    config, _ = dagster_instance_config(str(home))
    return config


def test_the_multi_node_configuration_loads_and_validates(tmp_path, monkeypatch):
    from dagster._config import process_config
    from dagster_k8s import K8sRunLauncher

    config = _instance_config(REPO / "deploy" / "kubernetes" / "dagster.yaml", tmp_path, monkeypatch)
    assert "postgres" in config["storage"] and config["concurrency"]["pools"]["default_limit"] > 1
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    checked = process_config(K8sRunLauncher.config_type(), launcher["config"])
    assert checked.success, checked.errors
    assert not process_config(K8sRunLauncher.config_type(), {**launcher["config"], "image_pull_policy": 5}).success


def test_the_team_configuration_loads(tmp_path, monkeypatch):
    config = _instance_config(REPO / "deploy" / "postgres" / "dagster.yaml", tmp_path, monkeypatch)
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_POSTGRES_URL"}


# --- the scale-out path, for real -------------------------------------------------------------------------

def _tables(target) -> dict[str, pl.DataFrame]:
    with warehouse.connect(target) as conn:
        names = conn.execute("select table_schema || '.' || table_name from information_schema.tables "
                             "where table_catalog = current_database() and table_type = 'BASE TABLE' "
                             "order by 1").fetchall()
    return {name: warehouse.read_table(target, name) for (name,) in names}


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.drop([c for c in frame.columns if c in VOLATILE_COLUMNS])
    if frame.width == 0:
        return frame
    # list columns cannot be sorted on directly: sort by their text
    keys = [pl.col(c).cast(pl.List(pl.Utf8)).list.join(",") if isinstance(frame.schema[c], pl.List) else pl.col(c)
            for c in frame.columns]
    return frame.sort(keys, nulls_last=True)


def _run(command: list[str], env: dict, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.mark.slow
def test_scale_out_postgres_instance_and_ducklake_warehouse_equal_the_embedded_default(tmp_path, monkeypatch):
    from workforce_assets.demo import DemoConfig, generate_demo_world

    inputs = tmp_path / "input"
    # smaller than DemoConfig.small(): every asset still runs, each backend's full run takes about a minute
    generate_demo_world(inputs, DemoConfig(n_companies=8, n_rated_cvs=100, n_job_records=600, n_employers=60,
                                           n_batches=2, max_sample_per_company=25))
    batches = sorted(p.stem for p in (inputs / "profiles").glob("*.csv"))
    assert len(batches) == 2
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WORKFORCE_", "DAGSTER_"))}
    for name in ("GEMINI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET"):
        base.pop(name, None)
    # one embedding cache for both deployments, as a team shares one: a text is embedded once
    base |= {"WORKFORCE_INPUT_DIR": str(inputs), "WORKFORCE_POSTERIOR_DRAWS": "200",
             "WORKFORCE_EMBEDDING_CACHE_DIR": str(tmp_path / "embedding_cache")}

    # the embedded default: a DuckDB file and a SQLite instance
    embedded = base | {"DAGSTER_HOME": str(tmp_path / "home_embedded"),
                       "WORKFORCE_DUCKDB_PATH": str(tmp_path / "embedded" / "warehouse.duckdb")}
    started = time.monotonic()
    _run([CLI, "run", "--input-dir", str(inputs)], embedded, tmp_path)
    print(f"embedded default run: {time.monotonic() - started:.0f} s")
    reference = _tables(Path(embedded["WORKFORCE_DUCKDB_PATH"]))

    with throwaway_postgres(databases=("dagster", "lake")) as pg:
        home = tmp_path / "home_team"
        home.mkdir()
        shutil.copy(REPO / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
        team = base | {
            "DAGSTER_HOME": str(home),
            "DAGSTER_POSTGRES_URL": f"postgresql://{pg.user}@{pg.host}:{pg.port}/dagster",
            "WORKFORCE_WAREHOUSE": "ducklake",
            "WORKFORCE_DUCKLAKE_CATALOG": f"postgres:{pg.libpq('lake')}",
            "WORKFORCE_DUCKLAKE_DATA_PATH": str(tmp_path / "lake_data"),
            "WORKFORCE_DUCKDB_PATH": str(tmp_path / "team_side_files" / "warehouse.duckdb"),
        }
        timings = {}
        started = time.monotonic()
        _run([CLI, "run", "--input-dir", str(inputs)], team, tmp_path)
        timings["first run"] = time.monotonic() - started
        # two runs of different batches at once, from the Dagster CLI, on the Postgres instance
        started = time.monotonic()
        procs = [subprocess.Popen([DAGSTER, "asset", "materialize", "-m", "workforce_assets.definitions",
                                   "--select", BATCH_ASSETS, "--partition", batch], env=team, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for batch in batches]
        outputs = [p.communicate(timeout=600)[0] for p in procs]
        for proc, out in zip(procs, outputs):
            assert proc.returncode == 0, out[-4000:]
        timings["two batch runs at once"] = time.monotonic() - started
        # the runs and their steps are in Postgres: both batch runs succeeded there
        import dagster as dg

        monkeypatch.setenv("DAGSTER_POSTGRES_URL", team["DAGSTER_POSTGRES_URL"])
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": batches[0]}))
            runs += instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": batches[1]}))
            assert {r.tags["dagster/partition"] for r in runs if r.status == dg.DagsterRunStatus.SUCCESS} == set(batches)
        # the rest of the graph catches up (what the batch runs made stale), then every table is compared
        started = time.monotonic()
        _run([CLI, "run", "--input-dir", str(inputs)], team, tmp_path)
        timings["catch-up run"] = time.monotonic() - started
        print("Postgres + DuckLake:", {k: round(v) for k, v in timings.items()})
        lake = warehouse.DuckLake(team["WORKFORCE_DUCKLAKE_CATALOG"], team["WORKFORCE_DUCKLAKE_DATA_PATH"])
        scaled = _tables(lake)

    assert sorted(scaled) == sorted(reference)
    assert len(reference) > 20
    different = {}
    for name, frame in reference.items():
        try:
            assert_frame_equal(_comparable(scaled[name]), _comparable(frame), check_exact=False, rel_tol=1e-6,
                               abs_tol=1e-9, check_dtypes=False)
        except AssertionError as exc:
            different[name] = str(exc)[:600]
    assert not different, different
