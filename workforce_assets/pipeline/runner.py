"""Materialize a selection of the graph for every company batch, in dependency order, on a persistent instance.

A selection mixes unpartitioned assets (rated CVs, labor models) and assets partitioned by company batch.
The runner cuts the graph into phases: a new phase starts wherever an edge crosses between unpartitioned
and partitioned assets, or reads all partitions of its parent. Each phase runs once (unpartitioned) or once
per batch (partitioned), so every batch's annotations exist before any posterior reads them.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import threading
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.storage.runs import SqliteRunStorage  # the public API has no "is this instance local?"

from workforce_assets import settings
from workforce_assets.pipeline.automation import batch_job, batches_in, posteriors_job, shared_job
from workforce_assets.pipeline.definitions import build_definitions
from workforce_assets.pipeline.ingestion_assets import changed_profile_file_events
from workforce_assets.pipeline.partitions import COMPANY_BATCHES


#: Tag on every run this runner starts: runs of a runner that died (SIGKILL, OOM) are found by it.
LAUNCHER_TAG = ("workforce/launcher", "cli")
LOCK_FILE = "workforce-cli.lock"
BATCH_JOB, POSTERIORS_JOB, SHARED_JOB = batch_job.name, posteriors_job.name, shared_job.name
UNFINISHED = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED,
              dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.CANCELING)

#: The console shows INFO and above (asset logs, warnings, failures); the UI keeps every event.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass
class RunReport:
    runs: list[dict] = field(default_factory=list)
    skipped: int = 0  # asset (partitions) up to date, not run


    @property
    def failed(self) -> list[dict]:
        return [r for r in self.runs if not r["success"] or r["failed_checks"]]

    @property
    def success(self) -> bool:
        return (bool(self.runs) or self.skipped > 0) and not self.failed


def ensure_instance(home: Path | None = None) -> dg.DagsterInstance:
    """The persistent instance in $DAGSTER_HOME (default .dagster_home/), configured by the repo's dagster.yaml.

    Creating a fresh home's SQLite storages is serialised by a file lock: two runs started at once on a new
    home raced in the schema migration ("Version table 'alembic_version' has more than one head present").
    """
    home = Path(home) if home else settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".workforce-init.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            config = home / "dagster.yaml"
            template = settings.REPO_ROOT / "dagster.yaml"
            if not config.exists() and template.exists():
                shutil.copyfile(template, config)
            instance = dg.DagsterInstance.from_config(str(home))
            instance.get_runs(limit=1)  # creates (or migrates) the storages while the lock is held
            instance.get_dynamic_partitions("company_batches")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return instance


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


FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
INVOCATION_TAG = "workforce/invocation"


_WORKER_PID = re.compile(r"Started process for run \(pid: (\d+)\)")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def recover_dead_workers(instance: dg.DagsterInstance, log=print) -> list[str]:
    """Fail the unfinished runs, launched from the UI or a sensor, whose run-worker process is gone.

    Dagster's default run launcher cannot check a worker's health, so a UI run whose worker was killed stays
    STARTED and keeps its pool slot. Its worker's pid is in the run's event log ("Started process for run
    (pid: N)"); on a local instance (SQLite storage: the workers run on this machine) a pid that no longer
    exists proves the run dead. Runs without a recorded pid are left alone.
    """
    if not isinstance(instance.run_storage, SqliteRunStorage):
        return []
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]))
    recovered = []
    for run in runs:
        if run.tags.get(LAUNCHER_TAG[0]) == LAUNCHER_TAG[1]:
            continue  # CLI runs: recover_dead_runs, under the runner lock
        records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50).records
        messages = [r.event_log_entry.dagster_event.message or "" for r in records if r.event_log_entry.dagster_event]
        pids = [int(m.group(1)) for text in messages if (m := _WORKER_PID.search(text))]
        if pids and not _pid_alive(pids[-1]):
            instance.report_run_failed(run, message=f"its run worker (pid {pids[-1]}) is gone (killed or crashed); "
                                                    "marked failed by workforce-assets")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            recovered.append(run.run_id)
            log(f"recovered run {run.run_id}: its worker (pid {pids[-1]}) is gone; marked failed, its pool slots freed")
    return recovered


def free_slots_of_finished_runs(instance: dg.DagsterInstance, log=print) -> list[str]:
    """Free pool slots still held by runs that are finished or gone (a run worker killed after its run was
    marked failed, e.g. by run monitoring). Safe at any time: a finished run never needs its slot."""
    storage = instance.event_log_storage
    freed = []
    for run_id in storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is None or run.status in FINISHED:
            storage.free_concurrency_slots_for_run(run_id)
            freed.append(run_id)
            log(f"freed the pool slots of run {run_id} ({run.status.value if run else 'no longer recorded'})")
    return freed


def pool_holders(instance: dg.DagsterInstance, pools: list[str]) -> list[str]:
    """'pool: run (status, launched by ...)' for each slot of ``pools`` held by an unfinished run."""
    lines = []
    for pool in pools:
        info = instance.event_log_storage.get_concurrency_info(pool)
        for slot in info.claimed_slots:
            run = instance.get_run_by_id(slot.run_id)
            origin = "this CLI" if run and run.tags.get(LAUNCHER_TAG[0]) == LAUNCHER_TAG[1] else "the UI, a sensor or another process"
            status = run.status.value if run else "unknown"
            lines.append(f"{pool}: run {slot.run_id} ({status}, step {slot.step_key}, started from {origin})")
    return lines


def _execute_interruptibly(job, instance: dg.DagsterInstance, log, **kwargs):
    """``job.execute_in_process`` in a worker thread, so that Ctrl-C always reaches this runner.

    In the main thread Dagster defers SIGINT to safe points, and a step waiting for a pool slot never
    reaches one: Ctrl-C and SIGTERM were ignored while waiting ("Step blocked by limit for pool
    duckdb_writer"). Here the main thread waits; on Ctrl-C the run is marked canceled, its slots are freed
    and KeyboardInterrupt propagates (the process exits; DuckDB rolls back any open transaction).
    """
    invocation = uuid.uuid4().hex
    tags = {**kwargs.pop("tags", {}), INVOCATION_TAG: invocation}
    outcome: dict = {}

    def work():
        try:
            outcome["result"] = job.execute_in_process(instance=instance, tags=tags, **kwargs)
        except BaseException as exc:  # re-raised in the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="workforce-run", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(timeout=0.25)
    except KeyboardInterrupt:
        for run in instance.get_runs(filters=dg.RunsFilter(tags={INVOCATION_TAG: invocation})):
            if run.status not in FINISHED:
                instance.report_run_canceled(run, message="interrupted (Ctrl-C) in workforce-assets")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            log(f"interrupted: run {run.run_id} marked canceled, its pool slots freed")
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


#: Assets run every time even when up to date: the input loaders (their files may have changed outside
#: Dagster; they report content hashes, so an unchanged file leaves everything downstream fresh) and the
#: LLM labellers (answers come from the cache; annotators or keys may have changed; they report a hash of
#: their labels as data version).
ALWAYS_RUN_GROUPS = ("inputs",)
ALWAYS_RUN_KEYS = ("annotation/llm_labels", "annotation/rated_cv_llm_labels")


def _always_run(graph, key: dg.AssetKey) -> bool:
    return graph.get(key).group_name in ALWAYS_RUN_GROUPS or key.to_user_string() in ALWAYS_RUN_KEYS


def out_of_date(instance: dg.DagsterInstance, graph, keys: list[dg.AssetKey], partition: str | None) -> list[dg.AssetKey]:
    """The keys (of one phase) that are missing or stale: their code version, or a parent's data version,
    changed since their last materialization. Dagster's own stale-status resolver decides (the one behind
    the UI's stale badges); it has no public constructor, hence the internal imports."""
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._time import get_current_datetime

    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=graph)
    resolver = CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)
    return [k for k in keys if _always_run(graph, k) or resolver.get_status(k, partition) != StaleStatus.FRESH]


def _single_run(graph, keys: list[dg.AssetKey]) -> bool:
    """Every asset of the phase takes a range of partitions in one run (``BackfillPolicy.single_run()``)."""
    return all((graph.get(k).backfill_policy is not None
                and graph.get(k).backfill_policy.max_partitions_per_run is None) for k in keys)


def _with_descendants(graph, keys: list[dg.AssetKey], roots: list[dg.AssetKey]) -> list[dg.AssetKey]:
    """``roots`` and every key of ``keys`` downstream of one of them, in ``keys`` order."""
    chosen = set(roots)
    grew = True
    while grew:
        grew = False
        for key in keys:
            if key not in chosen and chosen & set(graph.get(key).parent_keys):
                chosen.add(key)
                grew = True
    return [k for k in keys if k in chosen]


def contiguous_ranges(batches: list[str], order: list[str]) -> list[tuple[str, str]]:
    """``batches`` as (first, last) ranges of consecutive partitions in ``order`` (the partitions' order)."""
    position = {b: i for i, b in enumerate(order)}
    ranges: list[list[str]] = []
    for batch in sorted(batches, key=lambda b: position.get(b, len(order))):
        if batch in position and ranges and position.get(ranges[-1][1], -2) + 1 == position[batch]:
            ranges[-1][1] = batch
        else:
            ranges.append([batch, batch])
    return [(a, b) for a, b in ranges]


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
    force: bool = False,
) -> RunReport:
    """Run the selected assets for every batch of ``input_dir``.

    Assets that are up to date (same code version, same parent data versions as at their last
    materialization) are skipped unless ``force``; input loaders and LLM labellers always run (see
    ``ALWAYS_RUN_GROUPS``). A failed run does not stop later phases (independent branches still run;
    assets whose inputs are missing fail with a clear error), and the report lists every failure so the CLI
    can exit non-zero.
    """
    instance = instance or ensure_instance()
    with runner_lock(instance) as alone:
        if alone:
            recover_dead_runs(instance, log)
        return _materialize(instance, input_dir, selection, duckdb_path, batches, log, force)


def _run_phase(instance, job, index: int, partition: str | None, label: str, keys: list[dg.AssetKey], pools: list[str],
               report: RunReport, log, partition_range: tuple[str, str] | None = None) -> None:
    """One run of ``keys`` (one partition, or a range of partitions for single-run assets), its outcome
    appended to ``report``."""
    log(f"{label}: {', '.join(k.to_user_string() for k in keys)}")
    for holder in pool_holders(instance, pools):
        log(f"  waiting for a pool slot held by {holder}; it must finish (or be terminated in the UI). "
            "Ctrl-C stops this run.")
    tags = dict([LAUNCHER_TAG])
    if partition_range:  # as a single-run backfill tags its run
        tags |= {"dagster/asset_partition_range_start": partition_range[0],
                 "dagster/asset_partition_range_end": partition_range[1]}
    result = _execute_interruptibly(
        job, instance, log, partition_key=partition, raise_on_error=False, run_config=QUIET_CONSOLE,
        tags=tags, asset_selection=keys,
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
    report.runs.append({"phase": index, "partition": partition, "partition_range": partition_range,
                        "run_id": result.run_id, "success": result.success,
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


def _materialize(instance, input_dir, selection, duckdb_path, batches, log, force=False) -> RunReport:
    defs = build_definitions(input_dir=input_dir, duckdb_path=duckdb_path)
    all_batches = register_batches(instance, input_dir)
    batches = batches if batches is not None else all_batches
    report = RunReport()
    recover_dead_workers(instance, log)
    free_slots_of_finished_runs(instance, log)
    for event in changed_profile_file_events(instance, input_dir):  # new or changed batch files
        instance.report_runless_asset_event(event)
    graph = defs.resolve_asset_graph()
    order = instance.get_dynamic_partitions(COMPANY_BATCHES.name)
    for index, (partitioned, keys) in enumerate(plan_phases(defs, selection)):
        # jobs of the definitions, so the UI lists, opens and re-executes these runs
        job = defs.resolve_job_def(BATCH_JOB if partitioned else SHARED_JOB)
        pools = sorted({pool for k in keys for pool in (graph.get(k).pools or ())})
        if partitioned and _single_run(graph, keys):
            # one run over every stale batch (per contiguous range of the partition order), not one per batch
            job = defs.resolve_job_def(POSTERIORS_JOB)
            todo = [b for b in batches if force or out_of_date(instance, graph, keys, b)]
            skipped = len(batches) - len(todo)
            if skipped:
                report.skipped += skipped * len(keys)
                log(f"phase {index}: up to date in {skipped} batch(es), skipped (--force recomputes)")
            for first_batch, last_batch in contiguous_ranges(todo, order):
                label = f"phase {index} [{first_batch}]" if first_batch == last_batch else \
                    f"phase {index} [{first_batch} .. {last_batch}]"
                if first_batch == last_batch:
                    _run_phase(instance, job, index, first_batch, label, keys, pools, report, log)
                else:
                    _run_phase(instance, job, index, None, label, keys, pools, report, log,
                               partition_range=(first_batch, last_batch))
            continue
        for partition in (batches if partitioned else [None]):
            label = f"phase {index} [{partition}]" if partition else f"phase {index}"
            # loaders and LLM labellers first; then what is out of date given their (possibly new) versions.
            # In a batch phase everything downstream of them runs in the same run (one run per batch): those
            # assets report content versions, so an unchanged result leaves later phases fresh
            first = list(keys) if force else (_with_descendants(graph, keys, [k for k in keys if _always_run(graph, k)])
                                              if partitioned else [k for k in keys if _always_run(graph, k)])
            rest = [k for k in keys if k not in first]
            if first:
                _run_phase(instance, job, index, partition, label, first, pools, report, log)
            if rest:
                todo = out_of_date(instance, graph, rest, partition)
                skipped = [k.to_user_string() for k in rest if k not in todo]
                if skipped:
                    report.skipped += len(skipped)
                    log(f"{label}: up to date, skipped: {', '.join(skipped)} (--force recomputes)")
                if todo:
                    _run_phase(instance, job, index, partition, label, todo, pools, report, log)
    return report
