"""Jobs, declarative automation, the sensor that turns new profile files into partitions, and schedules.

Automation (every condition in :func:`automation_condition_for`, evaluated by the sensor
``workforce_automation``, stopped by default): a new or changed batch file (a runless materialization of
``inputs/profile_files`` with a new content hash) -> that batch's profiles, labels and matrix -> the joint fit ->
every batch's posteriors (the joint fit changes all of them) -> totals and report. The shared inputs
(rated CVs, companies, job files, annotations) are reloaded on a weekly cron and everything downstream of
them follows; nothing else reruns.
"""


from pathlib import Path

import dagster as dg

from workforce_assets import settings
from workforce_assets.ingestion.inputs import discover_batches
from workforce_assets.pipeline import annotation_assets as ann
from workforce_assets.pipeline import headcount_assets as hc
from workforce_assets.pipeline import ingestion_assets as ing
from workforce_assets.pipeline.partitions import COMPANY_BATCHES

BATCH_ASSETS = [ing.employee_profiles, ann.filter_labels, ann.llm_labels, ann.annotation_matrix]

batch_job = dg.define_asset_job(
    "company_batch_job",
    selection=dg.AssetSelection.assets(*BATCH_ASSETS),
    description="One company batch: profiles, keyword and LLM labels, annotation matrix (one run per batch).",
)

posteriors_job = dg.define_asset_job(
    "company_posteriors_job",
    selection=dg.AssetSelection.assets(hc.company_posteriors),
    description="Every batch's company posteriors, copied from the joint fit: one run covers a range of batches "
                "(a single-run backfill), not one run per batch.",
)

shared_job = dg.define_asset_job(
    "shared_assets_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*BATCH_ASSETS, hc.company_posteriors),
    description="Everything not partitioned by batch: inputs, rated-CV annotators, the joint fit, totals, labor "
                "models, profiles, planning, reports.",
)


def batches_in(input_dir: Path) -> list[str]:
    profiles = input_dir / "profiles"
    return sorted(discover_batches(profiles)) if profiles.is_dir() else []


WEEKLY_REFIT_CRON = "0 3 * * 0"


#: Eager, but not while a parent is about to be requested: an asset with two paths from one change (the
#: report reads log-debias and the totals, both downstream of the joint fit) then runs once, after both.
FOLLOW_UPSTREAM = (dg.AutomationCondition.eager()
                   & ~dg.AutomationCondition.any_deps_match(dg.AutomationCondition.will_be_requested()))


def automation_condition_for(spec: dg.AssetSpec) -> dg.AutomationCondition:
    """Shared inputs: reloaded on the weekly cron. Everything else follows exactly what changed upstream (a
    batch file's new content hash, the joint fit, a reload), once, and nothing more."""
    if spec.key.path[0] == "inputs" and spec.partitions_def is None and spec.key.path[-1] != "quarantine":
        return dg.AutomationCondition.on_cron(WEEKLY_REFIT_CRON)
    return FOLLOW_UPSTREAM


automation_sensor = dg.AutomationConditionSensorDefinition(
    "workforce_automation", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60,
    description="Evaluates every asset's automation condition (see workforce_assets.pipeline.automation). "
                "Stopped by default: nothing writes the warehouse unasked.",
)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def new_company_batches(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """A new file in <input>/profiles/ becomes a partition, and every batch file is observed (its content
    hash, reported as a runless materialization of inputs/profile_files), so workforce_automation runs exactly the new or changed batches. Stopped by default (nothing writes
    the warehouse unasked): switch it on in the UI (Automation) with workforce_automation."""
    from workforce_assets.pipeline.ingestion_assets import changed_profile_file_events

    input_dir = settings.input_dir()
    found = batches_in(input_dir)
    known = set(context.instance.get_dynamic_partitions(COMPANY_BATCHES.name))
    new = [b for b in found if b not in known]
    changed = changed_profile_file_events(context.instance, input_dir)
    if not new and not changed:
        return dg.SkipReason(f"no new or changed batch among {len(found)} profile files")
    return dg.SensorResult(
        asset_events=changed,
        dynamic_partitions_requests=[COMPANY_BATCHES.build_add_request(new)] if new else [],
    )
