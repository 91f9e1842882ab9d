"""The code location loads with every asset of the mission, grouped, with checks, jobs, sensor and schedules."""

import dagster as dg
import pytest

EXPECTED_TABLE_ASSETS = {
    "inputs/rated_cvs", "inputs/companies", "inputs/employee_profiles", "inputs/job_records", "inputs/quarantine",
    "inputs/imported_annotations",
    "annotation/keyword_lists", "annotation/filter_labels", "annotation/llm_labels", "annotation/annotation_matrix",
    "annotation/rated_cv_filter_labels", "annotation/rated_cv_llm_labels", "annotation/rated_cv_matrix",
    "headcount/annotator_parameters", "headcount/company_posteriors", "headcount/log_debias", "headcount/headcount_totals",
    "labor/role_model", "labor/job_roles", "labor/roles",
    "labor/archetype_matrix", "labor/archetype_eval", "labor/archetype_model", "labor/archetype_scores",
    "labor/salary_eval", "labor/salary_model", "labor/headcount_eval", "labor/headcount_model",
    "labor/market_sizes", "labor/peer_gaps",
    "reports/headcount_report", "reports/labor_report",
}


def test_definitions_load_every_asset_with_a_group_and_description():
    from workforce_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert EXPECTED_TABLE_ASSETS <= keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in {"inputs", "annotation", "headcount", "labor", "reports", "profiles", "planning"}, key
        assert node.description, f"{key} has no description"


def test_partitioned_assets_use_company_batches():
    from workforce_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    partitioned = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_partitioned}
    assert partitioned == {
        "inputs/profile_files", "inputs/employee_profiles", "annotation/filter_labels", "annotation/llm_labels",
        "annotation/annotation_matrix", "headcount/company_posteriors",
    }
    for key in partitioned:
        assert graph.get(dg.AssetKey.from_user_string(key)).partitions_def.name == "company_batches"


def test_jobs_sensors_schedules_and_checks_are_defined():
    from workforce_assets.definitions import defs

    assert defs.resolve_job_def("company_batch_job") is not None
    assert defs.resolve_sensor_def("new_company_batches") is not None
    assert defs.resolve_sensor_def("workforce_automation") is not None
    check_names = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert {"cv_id_unique", "posteriors_are_coherent", "profile_annotators_have_parameters"} <= check_names


def test_runner_phases_put_every_batch_annotation_before_posteriors():
    from workforce_assets.pipeline.runner import plan_phases
    from workforce_assets.definitions import defs

    phases = plan_phases(defs, None)
    position = {k.to_user_string(): i for i, (_, keys) in enumerate(phases) for k in keys}
    assert position["inputs/rated_cvs"] < position["inputs/employee_profiles"]
    assert position["annotation/annotation_matrix"] < position["headcount/company_posteriors"]
    assert position["headcount/company_posteriors"] < position["headcount/headcount_totals"]
    for partitioned, keys in phases:
        graph = defs.resolve_asset_graph()
        assert all(graph.get(k).is_partitioned == partitioned for k in keys)


def _dg(args: list[str], env_extra: dict, timeout: int = 300):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from workforce_assets import settings

    dg_bin = Path(sys.executable).parent / "dg"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}  # as a newcomer: nothing activated
    return subprocess.run([str(dg_bin), *args], cwd=settings.REPO_ROOT, env={**env, **env_extra},
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_dg_check_defs_passes_without_warnings(tmp_path):
    done = _dg(["check", "defs"], {"DAGSTER_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All definitions loaded successfully" in done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr


@pytest.mark.slow
def test_dg_launch_materializes_an_asset_without_supersession_warnings(tmp_path):
    import duckdb

    from workforce_assets.pipeline.runner import ensure_instance

    inputs = tmp_path / "input"
    inputs.mkdir()
    (inputs / "companies.csv").write_text("company_id,company_name,headcount\nc1,Acme,10\nc2,Beta,20\n")
    home = tmp_path / "home"
    ensure_instance(home)
    db = tmp_path / "w.duckdb"
    done = _dg(["launch", "--assets", "inputs/companies"],
               {"DAGSTER_HOME": str(home), "WORKFORCE_INPUT_DIR": str(inputs), "WORKFORCE_DUCKDB_PATH": str(db)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "SupersessionWarning" not in done.stdout + done.stderr
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("select count(*) from inputs.companies").fetchone()[0] == 2


def test_nothing_writes_unasked_sensors_and_schedules_start_stopped():
    from workforce_assets.definitions import defs

    for name in ("new_company_batches", "workforce_automation"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.STOPPED


def test_every_asset_has_a_source_code_version_and_owners(tmp_path, monkeypatch):
    from workforce_assets.definitions import defs
    from workforce_assets.pipeline import definitions as definitions_module
    from workforce_assets.pipeline import labor_assets

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.code_version and len(node.code_version) == 16, key
            assert node.owners == ["team:workforce_assets"], key
    before = definitions_module.source_code_version(labor_assets)
    # a changed file of the core package the module calls changes the version
    fake_root = tmp_path / "pkg"
    import shutil
    shutil.copytree(definitions_module.PACKAGE_ROOT, fake_root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(definitions_module, "PACKAGE_ROOT", fake_root)
    monkeypatch.setattr(definitions_module.inspect, "getfile", lambda m: str(fake_root / "pipeline" / "labor_assets.py"))
    assert definitions_module.source_code_version(labor_assets) == before
    (fake_root / "labor" / "salary.py").write_text((fake_root / "labor" / "salary.py").read_text() + "\n# changed\n")
    assert definitions_module.source_code_version(labor_assets) != before


def test_input_data_versions_follow_file_contents(tmp_path):
    from workforce_assets.pipeline.ingestion_assets import content_version

    path = tmp_path / "companies.csv"
    path.write_text("company_id,company_name,headcount\nc1,Acme,10\n")
    first = content_version([path])
    assert content_version([path]) == first
    path.write_text("company_id,company_name,headcount\nc1,Acme,11\n")
    assert content_version([path]) != first


def test_report_links_open_in_a_browser_through_the_ui_reports_server(tmp_path):
    """Issue 13: report paths in metadata could not be clicked (file:// does not open from the UI's page)."""
    import socket
    import time
    import urllib.request

    from workforce_assets.cli import serve_reports
    from workforce_assets.pipeline.metadata import file_links

    folder = tmp_path / "reports"
    (folder / "headcount").mkdir(parents=True)
    page = folder / "headcount" / "headcount_annotators.html"
    page.write_text("<html>annotators</html>")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    links = file_links({"annotators": page}, root=folder, base_url=url)
    assert links["annotators (open)"].value == f"{url}/headcount/headcount_annotators.html"
    server = serve_reports(folder, url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(links["annotators (open)"].value, timeout=2) as response:
                    assert response.status == 200 and b"annotators" in response.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_contiguous_ranges_of_batches_follow_the_partition_order():
    from workforce_assets.pipeline.runner import contiguous_ranges

    order = ["b1", "b2", "b3", "b4", "b5"]
    assert contiguous_ranges(["b2", "b1", "b3", "b5"], order) == [("b1", "b3"), ("b5", "b5")]
    assert contiguous_ranges([], order) == []
    assert contiguous_ranges(["x", "b1"], order) == [("b1", "b1"), ("x", "x")]  # unknown batches run alone
