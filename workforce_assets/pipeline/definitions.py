"""The code location: every asset, check, job, sensor and schedule, with resources from the environment."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from workforce_assets.pipeline import annotation_assets, headcount_assets, ingestion_assets, labor_assets, report_assets
from workforce_assets.pipeline.automation import batch_job, new_company_batches, nightly_shared_refresh, shared_job, weekly_batch_backfill
from workforce_assets.pipeline.checks import ALL_CHECKS
from workforce_assets.pipeline.resources import default_resources

ASSET_MODULES = [ingestion_assets, annotation_assets, headcount_assets, labor_assets, report_assets]


def build_definitions(input_dir: str | Path | None = None, duckdb_path: str | Path | None = None) -> dg.Definitions:
    """Definitions with resources bound to an input directory and a DuckDB file (defaults: environment)."""
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=ALL_CHECKS,
        jobs=[batch_job, shared_job],
        sensors=[new_company_batches],
        schedules=[weekly_batch_backfill, nightly_shared_refresh],
        resources=default_resources(input_dir, duckdb_path),
        executor=dg.in_process_executor,
    )
