"""Assets of the `labor` group: archetype matrix, existence / salary / headcount models, full-matrix scores.

Every model is evaluated on held-out rows (masked archetypes, held-out employers or companies) and the
evaluation tables are long (method, metric, value) so reports and external checks can read them.
"""


import pickle
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import polars as pl

from workforce_assets.labor import existence, questions, roles, salary
from workforce_assets.labor import headcount_model as headcount_core
from workforce_assets.labor import matrix as matrix_core
from workforce_assets.pipeline.ingestion_assets import job_records
from workforce_assets.pipeline.metadata import markdown_table, stats_metadata, table_metadata
from workforce_assets.pipeline.partitions import DUCKDB_POOL
from workforce_assets.pipeline.resources import WarehouseResource

GROUP = "labor"


class LaborConfig(dg.Config):
    """Which records feed the models, and the seed of every split."""

    certified_only: bool = True
    seed: int = 0


class ScoringConfig(dg.Config):
    top_k: int = 20
    threshold: float = 0.5


RECORD_ORDER = ["source_file", "row_number"]


def _job_records(warehouse: WarehouseResource, table: str) -> pl.DataFrame:
    """A job-record table in the records' own order (file, row). SQL gives rows in no defined order: a DuckDB
    file happens to return them as inserted, DuckLake in the order of its data files. Model fits (bagging by
    row index) depend on the order, so the scale-out test caught a headcount evaluation differing between
    the two backends until every read was put in this order."""
    frame = warehouse.read(table)
    return frame.sort(RECORD_ORDER, nulls_last=True) if set(RECORD_ORDER) <= set(frame.columns) else frame


def _matrix(warehouse: WarehouseResource) -> pl.DataFrame:
    """``labor.archetype_matrix`` in the order it was built (company, archetype): see :func:`_job_records`."""
    return warehouse.read("labor.archetype_matrix").sort("company_id", "archetype")


def _jobs(warehouse: WarehouseResource) -> pl.DataFrame:
    """The job records with their roles and seniorities (table ``labor.job_roles``)."""
    return _job_records(warehouse, "labor.job_roles")


def _model_dir(warehouse: WarehouseResource) -> Path:
    path = warehouse.path.parent / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save_model(warehouse: WarehouseResource, name: str, model, table: str, extra: dict) -> dg.MaterializeResult:
    path = _model_dir(warehouse) / f"{name}.pkl"
    with path.open("wb") as fh:
        pickle.dump(model, fh)
    row = pl.DataFrame([{"model": name, "path": str(path), "trained_at": datetime.now(timezone.utc).isoformat(), **{k: str(v) for k, v in extra.items()}}])
    warehouse.write(table, row)
    return dg.MaterializeResult(metadata={**table_metadata(row, table), "model_path": dg.MetadataValue.path(str(path))})


def _load_model(warehouse: WarehouseResource, name: str):
    with (_model_dir(warehouse) / f"{name}.pkl").open("rb") as fh:
        return pickle.load(fh)


TRAINING_CHECK = "training_set_sufficient"
TRAINING_CHECK_DESCRIPTION = (
    "The model's training set is not empty and holds at least 5% of the job records read; otherwise it "
    "fails (blocking the model's dependants) and says what left the records out (duplicates, no employer, "
    "not certified, no usable wage or worker count)."
)


def _training_check_spec(name: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(TRAINING_CHECK, asset=dg.AssetKey(["labor", name]), blocking=True,
                             description=TRAINING_CHECK_DESCRIPTION)


def _training_check(name: str, jobs: pl.DataFrame, n_training: int, certified_only: bool,
                    missing_input: str | None = None, used: dict | None = None) -> dg.AssetCheckResult:
    """``missing_input``: the input lacks what this model needs at all (e.g. worker counts): a warning.
    ``used``: the stats of ``model_records`` when the caller has them already."""
    if used is None:
        _, used = matrix_core.model_records(jobs, certified_only=certified_only)
    left_out = {k: used[k] for k in ("n_duplicate", "n_no_employer", "n_not_certified")}
    left_out["n_without_what_the_model_needs"] = max(used["n_used"] - n_training, 0)
    problem = matrix_core.training_set_problem(name, jobs.height, n_training, left_out)
    severity = dg.AssetCheckSeverity.WARN if missing_input and n_training == 0 else dg.AssetCheckSeverity.ERROR
    description = problem if problem is None or not missing_input else f"{problem}: {missing_input}"
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(["labor", name]), check_name=TRAINING_CHECK, passed=problem is None, severity=severity,
        description=description or f"{n_training:,} training rows from {jobs.height:,} job records",
        metadata={"n_job_records": jobs.height, "n_training_rows": n_training, **left_out},
    )


def _eval_result(warehouse: WarehouseResource, table: str, frame: pl.DataFrame) -> dg.MaterializeResult:
    warehouse.write(table, frame)
    scalars = {
        f"{r['method']}/{r['metric']}": dg.MetadataValue.float(float(r["value"]))
        for r in frame.iter_rows(named=True)
        if r["value"] is not None
    }
    return dg.MaterializeResult(metadata={**table_metadata(frame, table, preview_rows=40), **scalars})


class RoleModelConfig(dg.Config):
    """The title classifier for records without a SOC code (see ``labor.roles.RoleModel``)."""

    use_title_classifier: bool = True
    min_confidence: float = 0.5
    seed: int = 0


@dg.asset(key_prefix="labor", group_name=GROUP, deps=[job_records], pool=DUCKDB_POOL, kinds={"scikitlearn", "duckdb"})
def role_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: RoleModelConfig) -> dg.MaterializeResult:
    """The SOC occupations in the job records (SOC 2010 / 2018 reconciled by the data's own code-title pairs;
    what stays unreconciled is in ``labor.soc_reconciliation``) and a title -> occupation classifier learned
    from the records that carry both, with its top-1 accuracy on held-out employers."""
    jobs = _job_records(warehouse, "inputs.job_records")
    context.log.info(f"fitting the role model on {jobs.height:,} job records")
    model = roles.RoleModel(use_title_classifier=config.use_title_classifier, min_confidence=config.min_confidence,
                            seed=config.seed).fit(jobs)
    catalog, classifier = model.catalog_, model.classifier_
    warehouse.write("labor.soc_reconciliation", catalog.reconciliation_)
    outcomes = dict(catalog.reconciliation_.group_by("outcome").len().sort("outcome").iter_rows())
    extra = {"n_occupations": catalog.occupations_.height, "classifier": "none" if classifier is None else "linear_svm"}
    metadata = {
        "n_occupations": dg.MetadataValue.int(catalog.occupations_.height),
        "reconciliation": dg.MetadataValue.json(outcomes),
        "reconciliation_table": dg.MetadataValue.md(
            markdown_table(catalog.reconciliation_.filter(pl.col("outcome") != "truncated").head(40))
            if catalog.reconciliation_.height else "nothing to reconcile"),
    }
    if classifier is not None:
        extra |= {f"holdout_accuracy_{k}": round(v, 4) for k, v in classifier.holdout_accuracy_.items()}
        metadata |= {f"title_classifier/holdout_accuracy_{k}": dg.MetadataValue.float(v)
                     for k, v in classifier.holdout_accuracy_.items()}
        metadata |= {"title_classifier/n_holdout_records": dg.MetadataValue.int(classifier.n_holdout_),
                     "title_classifier/temperature": dg.MetadataValue.float(classifier.temperature_),
                     "title_classifier/n_occupations": dg.MetadataValue.int(len(classifier.classes_))}
    saved = _save_model(warehouse, "role_model", model, "labor.role_model", extra)
    return dg.MaterializeResult(metadata={**saved.metadata, **metadata})


@dg.asset(key_prefix="labor", group_name=GROUP, deps=[job_records, role_model], pool=DUCKDB_POOL,
          kinds={"duckdb", "polars"})
def job_roles(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every job record with its role (SOC occupation: from its own code, else the title classifier at the
    level its confidence allows, else title rules), ``role_source``, ``role_confidence`` and its seniority
    from evidence (prevailing-wage level, title cue, else ``unknown``) with ``seniority_source``."""
    jobs = roles.add_role_and_seniority(_job_records(warehouse, "inputs.job_records"), _load_model(warehouse, "role_model"))
    warehouse.write("labor.job_roles", jobs)
    by_source = dict(jobs.group_by("role_source").len().sort("role_source").iter_rows())
    context.log.info(f"{jobs.height:,} job records, {jobs['role'].n_unique():,} roles; by source {by_source}")
    return dg.MaterializeResult(metadata={
        **table_metadata(jobs, "labor.job_roles"),
        "n_roles": dg.MetadataValue.int(jobs["role"].n_unique()),
        "role_by_source": dg.MetadataValue.json(by_source),
        "role_by_level": dg.MetadataValue.json(
            {str(k): n for k, n in jobs.group_by("role_level").len().sort("role_level", nulls_last=True).iter_rows()}),
        # where each record's seniority came from (prevailing-wage level, title cue, or none: unknown)
        "seniority_by_source": dg.MetadataValue.json(
            {f"{source}/{level}": n for source, level, n in jobs.group_by("seniority_source", "seniority").len()
             .sort("seniority_source", "seniority").iter_rows()}),
    })


@dg.asset(key=["labor", "roles"], group_name=GROUP, deps=[job_roles, role_model], pool=DUCKDB_POOL,
          kinds={"duckdb"})
def roles_table(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every role with its SOC code, title (as the files give it), level, broad and major group, record
    counts by source (own SOC code, title classifier, title rules) and the SOC codes folded into it."""
    table = _load_model(warehouse, "role_model").roles_table(warehouse.read("labor.job_roles"))
    warehouse.write("labor.roles", table)
    return dg.MaterializeResult(metadata={
        **table_metadata(table, "labor.roles", preview_rows=30),
        "n_roles": dg.MetadataValue.int(table.height),
        "n_roles_by_level": dg.MetadataValue.json(
            {str(k): n for k, n in table.group_by("role_level").len().sort("role_level", nulls_last=True).iter_rows()}),
    })


@dg.asset(key_prefix="labor", group_name=GROUP, deps=[job_roles], pool=DUCKDB_POOL, kinds={"duckdb", "polars"})
def archetype_matrix(warehouse: WarehouseResource, config: LaborConfig) -> dg.MaterializeResult:
    """Company × archetype (canonical role | seniority | state) cells with record and worker counts, median wage."""
    jobs = _jobs(warehouse)
    _, used = matrix_core.model_records(jobs, certified_only=config.certified_only)
    matrix = matrix_core.build_archetype_matrix(jobs, certified_only=config.certified_only)
    warehouse.write("labor.archetype_matrix", matrix)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(matrix, "labor.archetype_matrix"),
            **stats_metadata(used, prefix="records/"),
            "n_companies": dg.MetadataValue.int(matrix["company_id"].n_unique()),
            "n_archetypes": dg.MetadataValue.int(matrix["archetype"].n_unique()),
            "n_roles": dg.MetadataValue.int(matrix["role"].n_unique()),
        }
    )


@dg.asset(key_prefix="labor", group_name=GROUP, deps=[archetype_matrix], pool=DUCKDB_POOL, kinds={"duckdb", "lightgbm"})
def archetype_eval(warehouse: WarehouseResource, config: LaborConfig) -> dg.MaterializeResult:
    """Held-out ranking of masked archetypes: recall@10, NDCG@10, AUC for every baseline and LightGBM."""
    frame = existence.evaluate_existence(_matrix(warehouse), seed=config.seed)
    return _eval_result(warehouse, "labor.archetype_eval", frame)


@dg.asset(key_prefix="labor", group_name=GROUP, deps=[archetype_matrix], pool=DUCKDB_POOL, kinds={"lightgbm"},
          check_specs=[_training_check_spec("archetype_model")])
def archetype_model(warehouse: WarehouseResource, config: LaborConfig):
    """The archetype-existence ranker fitted on the whole matrix (for full-matrix scoring)."""
    jobs = _jobs(warehouse)
    _, used = matrix_core.model_records(jobs, certified_only=config.certified_only)
    check = _training_check("archetype_model", jobs, used["n_used"], config.certified_only, used=used)
    fitted = check.passed  # else nothing worth fitting: the check says why and stops the dependants
    model = existence.fit_existence_model(_matrix(warehouse), seed=config.seed) if fitted else None
    yield _save_model(warehouse, "archetype_model", model, "labor.archetype_model",
                      {"seed": config.seed, "fitted": "yes" if fitted else f"no: {check.description}"})
    yield check


@dg.multi_asset(
    name="archetype_scoring",
    specs=[
        dg.AssetSpec(["labor", "archetype_scores"], group_name=GROUP, deps=[archetype_model, archetype_matrix],
                     kinds={"duckdb", "lightgbm"},
                     description="Every company × archetype cell scored in chunks: each company's top-K and every "
                                 "cell above the threshold (labor.archetype_scores, "
                                 "labor.archetype_scores_above_threshold)."),
        dg.AssetSpec(["labor", "market_sizes"], group_name=GROUP, deps=[archetype_model, archetype_matrix],
                     kinds={"duckdb", "lightgbm"},
                     description="Market size of each archetype: companies that list it plus the expected number "
                                 "that have it unlisted, with a 90% interval."),
    ],
    pool=DUCKDB_POOL,
)
def archetype_scoring(warehouse: WarehouseResource, config: ScoringConfig):
    """Scores every company × archetype cell once (the expensive part) and derives both the per-company
    rankings and the per-archetype market sizes from that one pass; the three tables commit together."""
    model = _load_model(warehouse, "archetype_model")
    top_k, above, sizes = questions.score_and_size(model, _matrix(warehouse), top_k=config.top_k,
                                                   threshold=config.threshold)
    warehouse.write_many([("labor.archetype_scores", top_k), ("labor.archetype_scores_above_threshold", above),
                          ("labor.market_sizes", sizes)])
    yield dg.MaterializeResult(
        asset_key=["labor", "archetype_scores"],
        metadata={**table_metadata(top_k, "labor.archetype_scores"), "n_above_threshold": dg.MetadataValue.int(above.height)},
    )
    yield dg.MaterializeResult(asset_key=["labor", "market_sizes"],
                               metadata=table_metadata(sizes, "labor.market_sizes"))


def _evaluated_model_assets(name: str, evaluate, training_rows, eval_description: str, model_description: str,
                            missing_input=None) -> dg.AssetsDefinition:
    """One step that evaluates a model on held-out rows (``labor/<name>_eval``) and refits it on all rows
    (``labor/<name>_model``): the two share the expensive feature preparation. ``training_rows(jobs,
    certified_only)`` counts the rows the model learns from, for the check ``training_set_sufficient``;
    ``missing_input(jobs)`` names what the input lacks entirely for this model (a warning, not an error)."""

    @dg.multi_asset(
        name=f"{name}_models",
        specs=[
            dg.AssetSpec(["labor", f"{name}_eval"], group_name=GROUP, deps=[job_roles], kinds={"duckdb", "lightgbm"}, description=eval_description),
            dg.AssetSpec(["labor", f"{name}_model"], group_name=GROUP, deps=[job_roles], kinds={"lightgbm"}, description=model_description),
        ],
        pool=DUCKDB_POOL,
        check_specs=[_training_check_spec(f"{name}_model")],
    )
    def _assets(warehouse: WarehouseResource, config: LaborConfig):
        jobs = _jobs(warehouse)
        frame, model = evaluate(jobs, seed=config.seed)
        result = _eval_result(warehouse, f"labor.{name}_eval", frame)
        yield dg.MaterializeResult(asset_key=["labor", f"{name}_eval"], metadata=result.metadata)
        fitted = "yes" if model is not None else "no: too little data (see the eval table's note)"
        saved = _save_model(warehouse, f"{name}_model", model, f"labor.{name}_model", {"seed": config.seed, "fitted": fitted})
        yield dg.MaterializeResult(asset_key=["labor", f"{name}_model"], metadata=saved.metadata)
        yield _training_check(f"{name}_model", jobs, training_rows(jobs, config.certified_only), config.certified_only,
                              missing_input(jobs) if missing_input else None)

    return _assets


def _headcount_training_rows(jobs: pl.DataFrame, certified_only: bool) -> int:
    records, _ = matrix_core.model_records(jobs, certified_only=certified_only)
    return records.filter(pl.col("workers").is_not_null()).height if "workers" in records.columns else 0


def _no_worker_counts(jobs: pl.DataFrame) -> str | None:
    if "workers" not in jobs.columns or jobs["workers"].is_null().all():
        return "no file has worker counts (H-1B LCA files carry none; H-2A / H-2B and PERM files do)"
    return None


salary_models = _evaluated_model_assets(
    "salary", salary.evaluate_salary, lambda jobs, certified_only: salary.salary_records(jobs, certified_only).height,
    "Salary model on held-out employers: MAE, R², 80% interval coverage vs a role × state median.",
    "LightGBM quantile models (q10/q50/q90) of annual wage, refitted on all records.",
)
headcount_models = _evaluated_model_assets(
    "headcount", headcount_core.evaluate_headcount, _headcount_training_rows,
    "Workers per (company, role, state) on held-out companies vs the original template heuristic.",
    "LightGBM model of certified workers per (company, role, state), refitted on all records.",
    missing_input=_no_worker_counts,
)


class PeerGapConfig(dg.Config):
    """Peer gaps are listed for the companies with the most archetypes (the ones users ask about first)."""

    n_companies: int = 50
    n_peers: int = 25
    top: int = 10


@dg.asset(key_prefix="labor", group_name=GROUP, deps=[archetype_model, archetype_matrix], pool=DUCKDB_POOL, kinds={"duckdb"})
def peer_gaps(warehouse: WarehouseResource, config: PeerGapConfig) -> dg.MaterializeResult:
    """Archetypes common at each large company's most similar peers that the company does not list."""
    matrix = _matrix(warehouse)
    model = _load_model(warehouse, "archetype_model")
    largest = (
        matrix.group_by("company_id").agg(pl.len().alias("n")).sort(["n", "company_id"], descending=[True, False])
        .head(config.n_companies)["company_id"].to_list()
    )
    gaps = questions.peer_gaps(matrix, largest, n_peers=config.n_peers, top=config.top, model=model)
    warehouse.write("labor.peer_gaps", gaps)
    return dg.MaterializeResult(metadata={**table_metadata(gaps, "labor.peer_gaps"), "n_companies": dg.MetadataValue.int(len(largest))})
