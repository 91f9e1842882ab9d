"""Assets of the `inputs` group: load and validate the input contract into DuckDB.

Each loader writes its loaded rows to ``inputs.<name>`` and its rejected rows to ``inputs.rejects_<name>``;
``inputs/quarantine`` is the union of every loader's rejects, so no row is ever dropped silently.
"""


import hashlib
from pathlib import Path

import dagster as dg
import polars as pl

from workforce_assets.ingestion import inputs as input_files
from workforce_assets.ingestion import jobs as job_files
from workforce_assets.ingestion.result import QUARANTINE_SCHEMA, LoadResult
from workforce_assets.pipeline.metadata import stats_metadata, table_metadata
from workforce_assets.pipeline.partitions import COMPANY_BATCHES, DUCKDB_POOL
from workforce_assets.pipeline.resources import InputDirResource, WarehouseResource

GROUP = "inputs"
REJECT_TABLES = {
    "rated_cvs": "inputs.rejects_rated_cvs",
    "companies": "inputs.rejects_companies",
    "employee_profiles": "inputs.rejects_employee_profiles",
    "imported_annotations": "inputs.rejects_imported_annotations",
    "job_records": "inputs.rejects_job_records",
    "company_counts": "inputs.rejects_company_counts",
    "unlabeled_profiles": "inputs.rejects_unlabeled_profiles",
    "organisation_categories": "inputs.rejects_organisation_categories",
}


def content_version(paths: list[Path]) -> dg.DataVersion:
    """A data version from the bytes of the input files (names and contents, streamed): the UI marks what
    reads them stale when a file changes, and reruns with unchanged files can be skipped."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        digest.update(path.name.encode() + b"\0")
        if path.exists():
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        digest.update(b"\0")
    return dg.DataVersion(digest.hexdigest()[:20])


def _store(
    warehouse: WarehouseResource, name: str, result: LoadResult, partition: str | None = None,
    sources: list[Path] | None = None,
) -> dg.MaterializeResult:
    """Write loaded rows and rejects; metadata carries the loaded / quarantined counts; the data version is
    the content hash of ``sources`` (the files read)."""
    table = f"inputs.{name}"
    rejects = result.quarantine
    if partition is None:  # rows and rejects in one transaction
        warehouse.write_many([(table, result.rows), (REJECT_TABLES[name], rejects)])
    else:
        warehouse.write_many([(table, result.rows, "batch", partition),
                              (REJECT_TABLES[name], rejects.with_columns(batch=pl.lit(partition)), "batch", partition)])
    return dg.MaterializeResult(
        metadata={**table_metadata(result.rows, table), **stats_metadata(result.stats)},
        data_version=content_version(sources) if sources is not None else None,
    )


@dg.asset(key_prefix="inputs", group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "polars"})
def rated_cvs(inputs: InputDirResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """CVs rated by humans (is_ml_expert): ground truth for annotator accuracy. Default input: the SIMULATED demo world (workforce_assets.demo)."""
    path = inputs.require("rated_cvs.csv")
    return _store(warehouse, "rated_cvs", input_files.load_rated_cvs(path), sources=[path])


@dg.asset(key_prefix="inputs", group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "polars"})
def companies(inputs: InputDirResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Companies and their total headcount: the populations the employee samples come from. Default input: the SIMULATED demo world (workforce_assets.demo)."""
    path = inputs.require("companies.csv")
    return _store(warehouse, "companies", input_files.load_companies(path), sources=[path])


PROFILE_FILES = dg.AssetKey(["inputs", "profile_files"])
DATA_VERSION_TAG = "dagster/data_version"  # how Dagster records an event's data version


def profile_file_versions(input_dir: Path) -> dict[str, dg.DataVersion]:
    """Batch -> content hash of its file in ``<input>/profiles/``."""
    folder = Path(input_dir) / "profiles"
    if not folder.is_dir():
        return {}
    return {batch: content_version([path]) for batch, path in input_files.discover_batches(folder).items()}


def _recorded_version(instance: dg.DagsterInstance, batch: str) -> str | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=PROFILE_FILES, asset_partitions=[batch]), limit=1).records
    event = records[0].asset_materialization if records else None
    return (event.tags or {}).get(DATA_VERSION_TAG) if event else None


def changed_profile_file_events(instance: dg.DagsterInstance, input_dir: Path) -> list[dg.AssetMaterialization]:
    """For each batch file that is new or changed since last recorded, a runless materialization of the
    external asset ``inputs/profile_files`` (the file appeared or changed outside Dagster) carrying its
    content hash as data version: reported, it makes exactly that batch stale for the UI and for
    declarative automation."""
    return [dg.AssetMaterialization(asset_key=PROFILE_FILES, partition=batch, tags={DATA_VERSION_TAG: version.value},
                                    description="batch file new or changed (content hash)")
            for batch, version in profile_file_versions(input_dir).items()
            if _recorded_version(instance, batch) != version.value]


#: An external asset: the files themselves. `workforce-assets run` and the sensor new_company_batches report a
#: runless materialization per new or changed batch file (its content hash), so it marks its batch stale.
profile_files = dg.AssetSpec(
    PROFILE_FILES, partitions_def=COMPANY_BATCHES, group_name=GROUP, owners=["team:workforce_assets"],
    description="The batch files in <input>/profiles/, one partition each, versioned by content hash (recorded by "
                "`workforce-assets run` and by the sensor new_company_batches when a file is new or changed).",
)


@dg.asset(
    key_prefix="inputs",
    group_name=GROUP,
    partitions_def=COMPANY_BATCHES,
    deps=[companies, PROFILE_FILES],
    pool=DUCKDB_POOL,
    kinds={"duckdb", "polars"},
)
def employee_profiles(context: dg.AssetExecutionContext, inputs: InputDirResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Sampled employees of one company batch (one file in profiles/); unknown companies are quarantined. Default input: the SIMULATED demo world (workforce_assets.demo)."""
    batch = context.partition_key
    batches = input_files.discover_batches(inputs.require("profiles"))
    if batch not in batches:
        raise FileNotFoundError(f"no profiles file for batch {batch!r} in {inputs.root / 'profiles'}")
    known = set(warehouse.read("inputs.companies")["company_id"].to_list())
    result = input_files.load_profiles(batches[batch], batch, known_company_ids=known)
    return _store(warehouse, "employee_profiles", result, partition=batch, sources=[batches[batch]])


@dg.asset(key_prefix="inputs", group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "polars"})
def imported_annotations(inputs: InputDirResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Precomputed labels (e.g. batch LLM jobs) from annotations/, long form; they are never recomputed. Default input: the SIMULATED demo world (workforce_assets.demo)."""
    folder = inputs.root / "annotations"
    return _store(warehouse, "imported_annotations", input_files.load_annotations(folder),
                  sources=input_files.find_annotation_files(folder))


@dg.asset(key_prefix="inputs", group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "polars"})
def company_counts(inputs: InputDirResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Optional company-level counts (company_counts.csv): company-wide keyword-search hits per filter and per-LLM
    sampled / rejected / accepted counts, the log-debias estimator's own inputs. Absent file: an empty table."""
    path = inputs.root / "company_counts.csv"
    if not path.exists():
        empty = LoadResult(rows=pl.DataFrame(schema={"company_id": pl.Utf8, "headcount": pl.Int64}),
                           stats={"n_read": 0, "file": "absent"})
        return _store(warehouse, "company_counts", empty, sources=[])
    return _store(warehouse, "company_counts", input_files.load_company_counts(path), sources=[path])


def _optional(warehouse: WarehouseResource, name: str, path: Path, schema: dict, load) -> dg.MaterializeResult:
    if not path.exists():
        return _store(warehouse, name, LoadResult(rows=pl.DataFrame(schema=schema), stats={"n_read": 0, "file": "absent"}),
                      sources=[])
    return _store(warehouse, name, load(path), sources=[path])


@dg.asset(key_prefix="inputs", group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "polars"})
def unlabeled_profiles(inputs: InputDirResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Optional unlabeled_profiles.csv (cv_id, cv_text): profile texts with no company and no human label, used
    only by the profile clustering (arrange-shared lays out the study's 1,859 such texts). Absent file: an
    empty table."""
    return _optional(warehouse, "unlabeled_profiles", inputs.root / "unlabeled_profiles.csv",
                     {"cv_id": pl.Utf8, "cv_text": pl.Utf8}, input_files.load_unlabeled_profiles)


@dg.asset(key_prefix="inputs", group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "polars"})
def organisation_categories(inputs: InputDirResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Optional organisation_categories.csv (organisation, category): the user's categories for organisations,
    which override the affiliation name rules (category: academic, industry_lab, company or
    government_nonprofit). Absent file: an empty table."""
    from workforce_assets.profiles.affiliations import CATEGORIES

    return _optional(warehouse, "organisation_categories", inputs.root / "organisation_categories.csv",
                     {"organisation": pl.Utf8, "category": pl.Utf8},
                     lambda path: input_files.load_organisation_categories(path, CATEGORIES))


JOB_FILES_CHECK = "job_files_recognised"


@dg.asset(key_prefix="inputs", group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "polars"},
          check_specs=[dg.AssetCheckSpec(
              JOB_FILES_CHECK, asset=dg.AssetKey(["inputs", "job_records"]),
              description="Every file in jobs/ was mapped to the job columns (by a published layout or by column "
                          "roles). A file whose employer or job-title column cannot be found is quarantined as a "
                          "file, the others load, and this check fails naming it and the missing roles.")])
def job_records(inputs: InputDirResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """US DOL disclosure records from jobs/, normalised (USPS states, annual wages, employer keys). Default input: the SIMULATED demo world (workforce_assets.demo)."""
    paths = job_files.find_job_files(inputs.root / "jobs")
    result = job_files.load_job_records(paths)
    stored = _store(warehouse, "job_records", result, sources=paths)
    not_loaded = result.stats.get("files_not_loaded", {})
    check = dg.AssetCheckResult(
        check_name=JOB_FILES_CHECK, passed=not not_loaded, severity=dg.AssetCheckSeverity.ERROR,
        description=("; ".join(f"{name}: no column found for {', '.join(info['missing_roles'])}"
                               for name, info in not_loaded.items()) or f"all {len(paths)} file(s) mapped"),
        metadata={"files_not_loaded": dg.MetadataValue.json(not_loaded),
                  "layouts": dg.MetadataValue.json(result.stats.get("layouts", {}))},
    )
    return dg.MaterializeResult(metadata=stored.metadata, data_version=stored.data_version, check_results=[check])


@dg.asset(
    key_prefix="inputs",
    group_name=GROUP,
    deps=[rated_cvs, companies, employee_profiles, imported_annotations, job_records, company_counts,
          unlabeled_profiles, organisation_categories],
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
)
def quarantine(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every rejected input row with its source, row number, reason and raw content (a view over all loaders)."""
    columns = ", ".join(QUARANTINE_SCHEMA)
    parts = []
    for asset_name, table in REJECT_TABLES.items():
        if not warehouse.exists(table):
            warehouse.write(table, pl.DataFrame(schema={**QUARANTINE_SCHEMA, **({"batch": pl.Utf8} if asset_name == "employee_profiles" else {})}))
        parts.append(f"select '{asset_name}' as asset, {columns} from {table}")
    warehouse.execute("create or replace view inputs.quarantine as " + " union all ".join(parts))
    counts = warehouse.query("select asset, count(*) as n from inputs.quarantine group by asset order by asset")
    per_asset = {row["asset"]: int(row["n"]) for row in counts.iter_rows(named=True)}
    reasons = warehouse.query("select reason, count(*) as n from inputs.quarantine group by reason order by n desc limit 20")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(sum(per_asset.values())),
            "quarantined_by_asset": dg.MetadataValue.json(per_asset),
            "top_reasons": dg.MetadataValue.json({r["reason"]: int(r["n"]) for r in reasons.iter_rows(named=True)}),
        }
    )
