"""Materialize a selection of the graph for every company batch, in dependency order, on a persistent instance.

A selection mixes unpartitioned assets (rated CVs, labor models) and assets partitioned by company batch.
The runner cuts the graph into phases: a new phase starts wherever an edge crosses between unpartitioned
and partitioned assets, or reads all partitions of its parent. Each phase runs once (unpartitioned) or once
per batch (partitioned), so every batch's annotations exist before any posterior reads them.
"""

from __future__ import annotations

import fcntl
import shutil
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from workforce_assets import settings
from workforce_assets.pipeline.automation import batches_in
from workforce_assets.pipeline.definitions import build_definitions
from workforce_assets.pipeline.partitions import COMPANY_BATCHES


#: Tag on every run this runner starts: runs of a runner that died (SIGKILL, OOM) are found by it.
LAUNCHER_TAG = ("workforce/launcher", "cli")
LOCK_FILE = "workforce-cli.lock"
UNFINISHED = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED,
              dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.CANCELING)

#: The console shows INFO and above (asset logs, warnings, failures); the UI keeps every event.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass
class RunReport:
    runs: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.runs if not r["success"] or r["failed_checks"]]

    @property
    def success(self) -> bool:
        return bool(self.runs) and not self.failed


def ensure_instance(home: Path | None = None) -> dg.DagsterInstance:
    """The persistent instance in $DAGSTER_HOME (default .dagster_home/), configured by the repo's dagster.yaml."""
    home = Path(home) if home else settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    template = settings.REPO_ROOT / "dagster.yaml"
    if not config.exists() and template.exists():
        shutil.copyfile(template, config)
    return dg.DagsterInstance.from_config(str(home))


@contextmanager
def runner_lock(instance: dg.DagsterInstance):
    """Held while a CLI runner works on this instance. Yields True when this process is the only runner (then
    every unfinished CLI run belongs to a runner that died), False when another live runner holds it."""
    path = Path(instance.root_directory) / LOCK_FILE
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover_dead_runs(instance: dg.DagsterInstance, log=print) -> list[str]:
    """Mark the unfinished runs of dead CLI runners failed and free their concurrency-pool slots.

    A SIGKILLed `workforce-assets run` left its run STARTED holding the only `duckdb_writer` slot, and every
    later run waited forever ("Step blocked by limit for pool duckdb_writer"). Call only while holding
    :func:`runner_lock` (no other runner alive). Returns the recovered run ids.
    """
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=list(UNFINISHED), tags=dict([LAUNCHER_TAG])))
    recovered = []
    for run in runs:
        instance.report_run_failed(run, message="the workforce-assets runner that started this run is gone "
                                                "(killed or crashed); marked failed by the next run")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(run.run_id)
        log(f"recovered run {run.run_id} of a runner that died: marked failed, its pool slots freed")
    return recovered


def plan_phases(defs: dg.Definitions, selection: str | None) -> list[tuple[bool, list[dg.AssetKey]]]:
    """Ordered phases of (partitioned?, asset keys) covering the selection."""
    graph = defs.resolve_asset_graph()
    with warnings.catch_warnings():  # the selection parser flags a beta parameter it sets itself
        warnings.simplefilter("ignore", dg.BetaWarning)
        chosen = dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()
        keys = set(chosen.resolve(graph))
    for key in list(keys):  # multi-assets that cannot be split run whole
        keys |= set(graph.get(key).execution_set_asset_keys)
    keys = {k for k in keys if graph.get(k).is_materializable}
    phase: dict[dg.AssetKey, int] = {}

    def phase_of(key: dg.AssetKey) -> int:
        if key not in phase:
            node = graph.get(key)
            best = 0
            for parent in node.parent_keys:
                if parent not in keys:
                    continue
                parent_node = graph.get(parent)
                crosses = parent_node.is_partitioned != node.is_partitioned or (
                    node.is_partitioned and isinstance(graph.get_partition_mapping(key, parent), dg.AllPartitionMapping)
                )
                best = max(best, phase_of(parent) + int(crosses))
            phase[key] = best
        return phase[key]

    for key in keys:
        phase_of(key)
    out: list[tuple[bool, list[dg.AssetKey]]] = []
    for level in sorted(set(phase.values())):
        members = [k for k in keys if phase[k] == level]
        for partitioned in (False, True):
            group = sorted((k for k in members if graph.get(k).is_partitioned == partitioned), key=lambda k: k.to_user_string())
            if group:
                out.append((partitioned, group))
    return out


def register_batches(instance: dg.DagsterInstance, input_dir: Path) -> list[str]:
    batches = batches_in(input_dir)
    known = set(instance.get_dynamic_partitions(COMPANY_BATCHES.name))
    new = [b for b in batches if b not in known]
    if new:
        instance.add_dynamic_partitions(COMPANY_BATCHES.name, new)
    return batches


def materialize(
    input_dir: Path,
    selection: str | None = None,
    duckdb_path: Path | None = None,
    instance: dg.DagsterInstance | None = None,
    batches: list[str] | None = None,
    log=print,
) -> RunReport:
    """Run the selected assets for every batch of ``input_dir``.

    A failed run does not stop later phases (independent branches still run; assets whose inputs are missing
    fail with a clear error), and the report lists every failure so the CLI can exit non-zero.
    """
    instance = instance or ensure_instance()
    with runner_lock(instance) as alone:
        if alone:
            recover_dead_runs(instance, log)
        return _materialize(instance, input_dir, selection, duckdb_path, batches, log)


def _materialize(instance, input_dir, selection, duckdb_path, batches, log) -> RunReport:
    defs = build_definitions(input_dir=input_dir, duckdb_path=duckdb_path)
    all_batches = register_batches(instance, input_dir)
    batches = batches if batches is not None else all_batches
    report = RunReport()
    for index, (partitioned, keys) in enumerate(plan_phases(defs, selection)):
        job_name = f"cli_phase_{index}"
        job_defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[dg.define_asset_job(
            job_name, selection=dg.AssetSelection.assets(*keys),
        )]))
        job = job_defs.resolve_job_def(job_name)
        names = ", ".join(k.to_user_string() for k in keys)
        for partition in (batches if partitioned else [None]):
            label = f"phase {index} [{partition}]" if partition else f"phase {index}"
            log(f"{label}: {names}")
            result = job.execute_in_process(
                instance=instance, partition_key=partition, raise_on_error=False, run_config=QUIET_CONSOLE,
                tags=dict([LAUNCHER_TAG]),
            )
            failed_checks = [
                f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}"
                for e in result.all_events
                if e.event_type_value == "ASSET_CHECK_EVALUATION"
                and not e.asset_check_evaluation_data.passed
                and e.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.ERROR
            ]
            failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            failed_steps = [e.step_key for e in failures]
            report.runs.append({"phase": index, "partition": partition, "run_id": result.run_id, "success": result.success,
                                "failed_steps": failed_steps, "failed_checks": failed_checks})
            if not result.success:
                log(f"  FAILED run {result.run_id}: steps {failed_steps}")
                for event in failures:
                    error = event.step_failure_data.error
                    cause = error.cause if error and error.cause else error
                    log(f"    {event.step_key}: {cause.message.strip() if cause else 'unknown error'}")
            elif failed_checks:
                log(f"  checks failed in run {result.run_id}: {failed_checks}")
            else:
                log(f"  ok (run {result.run_id})")
    return report
