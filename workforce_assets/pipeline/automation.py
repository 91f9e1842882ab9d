"""Jobs, the sensor that turns new profile files into partitions, and schedules."""


from pathlib import Path

import dagster as dg

from workforce_assets import settings
from workforce_assets.ingestion.inputs import discover_batches
from workforce_assets.pipeline import annotation_assets as ann
from workforce_assets.pipeline import headcount_assets as hc
from workforce_assets.pipeline import ingestion_assets as ing
from workforce_assets.pipeline.partitions import COMPANY_BATCHES

BATCH_ASSETS = [ing.employee_profiles, ann.filter_labels, ann.llm_labels, ann.annotation_matrix, hc.company_posteriors]

batch_job = dg.define_asset_job(
    "company_batch_job",
    selection=dg.AssetSelection.assets(*BATCH_ASSETS),
    description="One company batch end to end: profiles, keyword and LLM labels, annotation matrix, posteriors.",
)

shared_job = dg.define_asset_job(
    "shared_assets_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*BATCH_ASSETS),
    description="Everything not partitioned by batch: inputs, rated-CV annotators, totals, labor models, reports.",
)


def batches_in(input_dir: Path) -> list[str]:
    profiles = input_dir / "profiles"
    return sorted(discover_batches(profiles)) if profiles.is_dir() else []


@dg.sensor(job=batch_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def new_company_batches(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """A new file in <input>/profiles/ becomes a partition, and only its batch's work runs. Stopped by
    default (nothing writes the warehouse unasked): switch it on in the UI (Automation) or with
    `dagster sensor start new_company_batches`."""
    found = batches_in(settings.input_dir())
    known = set(context.instance.get_dynamic_partitions(COMPANY_BATCHES.name))
    new = [b for b in found if b not in known]
    if not new:
        return dg.SkipReason(f"no new batch among {len(found)} profile files")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=b, run_key=f"batch-{b}") for b in new],
        dynamic_partitions_requests=[COMPANY_BATCHES.build_add_request(new)],
    )


@dg.schedule(job=batch_job, cron_schedule="0 3 * * 0", default_status=dg.DefaultScheduleStatus.STOPPED)
def weekly_batch_backfill(context: dg.ScheduleEvaluationContext):
    """Re-run every registered batch weekly (new LLM annotators, refreshed annotator parameters)."""
    for key in context.instance.get_dynamic_partitions(COMPANY_BATCHES.name):
        yield dg.RunRequest(partition_key=key, run_key=f"{key}-{context.scheduled_execution_time:%Y%m%d}")


nightly_shared_refresh = dg.ScheduleDefinition(
    name="nightly_shared_refresh",
    job=shared_job,
    cron_schedule="0 2 * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Reload inputs and refit the labor models and totals every night.",
)
