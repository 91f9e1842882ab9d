"""The Dagster UI in a real browser, started as a newcomer does: `.venv/bin/workforce-assets ui` from a shell
where nothing is activated (it runs `dg dev`, webserver and daemon, and the reports server) on 127.0.0.1
over the small materialized demo, driven by headless Chromium through Selenium. Screenshots go to
test-artifacts/ui/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from workforce_assets import settings

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
ARTIFACTS = settings.REPO_ROOT / "test-artifacts" / "ui"
UI_REPORTS_PORT: list[int] = []  # the port the ui fixture's reports server listens on


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ui(materialized_demo):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("headless Chromium is not installed (the README's test command installs chromium and "
                    "chromium-driver)")
    port, reports_port = _free_port(), _free_port()
    UI_REPORTS_PORT[:] = [reports_port]
    own_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != own_bin)
    env = {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, "PATH": path,  # nothing activated
           settings.ENV_REPORTS_PORT: str(reports_port)}
    log_path = materialized_demo.dagster_home / "ui.log"
    log = open(log_path, "w")
    server = subprocess.Popen([str(Path(own_bin) / "workforce-assets"), "ui", "--port", str(port),
                               "--input-dir", str(materialized_demo.input_dir)],
                              cwd=materialized_demo.dagster_home, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{base}/server_info", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(1)
    else:
        server.terminate()
        pytest.fail("the webserver did not start: " + log_path.read_text()[-3000:])

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--window-size=1600,1000", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield base, driver, materialized_demo
    finally:
        driver.quit()
        for line in log_path.read_text().splitlines():  # the reports server runs in its own session
            if line.startswith("reports: ") and "(pid " in line:
                os.kill(int(line.split("(pid ")[1].split(";")[0]), 15)
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
        log.close()


def _dismiss_dialogs(driver) -> None:
    """The UI greets a new instance with a 'Join the Dagster community' dialog over the page: Skip it."""
    for button in driver.find_elements("tag name", "button"):
        try:
            if button.text.strip() == "Skip" and button.is_displayed():
                button.click()
        except Exception:  # the dialog closed while we looked
            pass


def _wait_for_text(driver, texts: list[str], timeout: float = 60, name: str = "page") -> str:
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        _dismiss_dialogs(driver)
        body = driver.find_element("tag name", "body").text
        if all(t in body for t in texts):
            (ARTIFACTS / f"{name}.txt").write_text(body)
            return body
        time.sleep(1)
    (ARTIFACTS / f"{name}.txt").write_text(body)
    driver.save_screenshot(str(ARTIFACTS / f"{name}_failed.png"))
    raise AssertionError(f"missing {[t for t in texts if t not in body]} in page text:\n{body[:3000]}")


def test_lineage_shows_the_groups_and_assets(ui):
    base, driver, _ = ui
    driver.get(f"{base}/asset-groups")
    _wait_for_text(driver, ["Global asset lineage", "inputs", "annotation", "headcount", "labor", "reports"],
                   name="lineage")
    driver.save_screenshot(str(ARTIFACTS / "lineage.png"))
    driver.get(f"{base}/assets")
    # the catalog list renders the rows in view (annotation, headcount, then inputs)
    _wait_for_text(driver, ["joint_fit", "company_posteriors", "headcount_totals", "employee_profiles"], name="catalog")
    driver.save_screenshot(str(ARTIFACTS / "catalog.png"))
    driver.get(f"{base}/assets/labor/archetype_model")
    _wait_for_text(driver, ["archetype_model", "archetype-existence ranker"], name="labor_asset")


def test_an_asset_page_shows_description_row_count_columns_and_metadata(ui):
    base, driver, _ = ui
    driver.get(f"{base}/assets/inputs/companies")
    body = _wait_for_text(driver, ["Companies and their total headcount", "company_id", "headcount"],
                          name="asset_page")
    driver.save_screenshot(str(ARTIFACTS / "asset_inputs_companies.png"))
    assert "Row count\n12" in body  # the small demo's 12 companies
    assert "Owners\nworkforce_assets" in body and "Columns" in body and "n_loaded" in body


def test_clicking_materialize_runs_the_asset(ui):
    base, driver, demo = ui
    instance = demo.instance
    before = {r.run_id for r in instance.get_runs()}
    driver.get(f"{base}/assets/inputs/companies")
    _wait_for_text(driver, ["Materialize", "Row count"], name="asset_page_materialize")
    time.sleep(2)
    _dismiss_dialogs(driver)
    button = next(b for b in driver.find_elements("tag name", "button") if b.text.strip() == "Materialize")
    button.click()
    deadline = time.monotonic() + 240
    new = []
    while time.monotonic() < deadline:
        new = [r for r in dg.DagsterInstance.from_config(str(demo.dagster_home)).get_runs() if r.run_id not in before]
        if new and new[0].status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
            break
        time.sleep(2)
    driver.save_screenshot(str(ARTIFACTS / "materialize_clicked.png"))
    assert new, "no run was launched from the UI"
    assert new[0].status == dg.DagsterRunStatus.SUCCESS, new[0].status
    assert dg.AssetKey(["inputs", "companies"]) in (new[0].asset_selection or set())


def _click_button(driver, label: str, timeout: float = 30, exact: bool = False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _dismiss_dialogs(driver)
        for button in driver.find_elements("tag name", "button"):
            try:
                text = button.text.strip()
                if button.is_displayed() and (text == label if exact else text.startswith(label)):
                    button.click()
                    return button
            except Exception:
                pass
        time.sleep(1)
    raise AssertionError(f"no button {label!r}: {[b.text for b in driver.find_elements('tag name', 'button')]}")


def test_a_backfill_over_company_batches_launched_from_the_ui_matches_the_cli(ui):
    import duckdb

    base, driver, demo = ui
    table = "inputs.employee_profiles"

    def contents():
        with duckdb.connect(str(demo.duckdb_path), read_only=True) as conn:
            return conn.execute(f"select batch, count(*), sum(hash(columns(*))) from {table} group by batch "
                                "order by batch").fetchall()

    from workforce_assets.pipeline.runner import ensure_instance

    cli_tables = contents()
    before = {b.backfill_id for b in ensure_instance(demo.dagster_home).get_backfills()}
    driver.get(f"{base}/assets/inputs/employee_profiles")
    _wait_for_text(driver, ["Materialize", "Partitions", "Sampled employees"], name="partitioned_asset_page")
    _click_button(driver, "Materialize")
    time.sleep(3)
    _click_button(driver, "All", exact=True)  # every registered batch (the dialog starts with none selected)
    _wait_for_text(driver, [f"{len(set(b for b, *_ in cli_tables))} partitions"], name="backfill_dialog_all")
    (ARTIFACTS / "backfill_dialog.txt").write_text(driver.find_element("tag name", "body").text)
    driver.save_screenshot(str(ARTIFACTS / "backfill_dialog.png"))
    _click_button(driver, "Launch backfill")
    deadline = time.monotonic() + 240
    backfill = None
    while time.monotonic() < deadline:
        backfills = [b for b in ensure_instance(demo.dagster_home).get_backfills() if b.backfill_id not in before]
        backfill = backfills[0] if backfills else None
        if backfill is not None and backfill.status.value in ("COMPLETED", "COMPLETED_SUCCESS", "FAILED",
                                                              "COMPLETED_FAILED", "CANCELED"):
            break
        time.sleep(3)
    driver.get(f"{base}/overview/backfills")
    time.sleep(3)
    driver.save_screenshot(str(ARTIFACTS / "backfill_done.png"))
    assert backfill is not None, "no backfill was launched from the UI"
    assert backfill.status.value in ("COMPLETED", "COMPLETED_SUCCESS"), backfill.status
    assert contents() == cli_tables  # the UI's backfill leaves the table the CLI left


def test_report_links_on_the_report_asset_open(ui):
    """The `(open)` link of a report asset is a URL the browser follows: the ui command's reports server."""
    from urllib.parse import urlparse

    base, driver, demo = ui
    instance = dg.DagsterInstance.from_config(str(demo.dagster_home))
    # the latest materialization written by the asset itself (other tests report runless events without metadata)
    records = instance.fetch_materializations(dg.AssetKey(["reports", "headcount_report"]), limit=50).records
    links = next(([v.value for k, v in r.asset_materialization.metadata.items() if k.endswith("(open)")]
                  for r in records if any(k.endswith("(open)") for k in r.asset_materialization.metadata)), [])
    assert links and all(u.startswith("http://127.0.0.1:") for u in links)
    # the demo ran with the default port; this ui serves the same folder on a free port
    driver.get(f"http://127.0.0.1:{UI_REPORTS_PORT[0]}{urlparse(links[0]).path}")
    time.sleep(2)
    driver.save_screenshot(str(ARTIFACTS / "report_opened.png"))
    assert "plotly" in driver.page_source.lower()
