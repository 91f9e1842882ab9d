"""Assets of the `headcount` group: annotator parameters, the joint fit, company posteriors, totals, log-debias.

The joint fit is one asset (``headcount/joint_fit``): the annotator model and the prevalence prior are fitted
across every company, so every batch's ``company_posteriors`` and the totals read the same draws. Annotators
are matched by canonical name between the rated CVs and the profiles; one without labels on either side is
left out with a warning, one that behaves differently on profiles than on rated CVs fails the transport
check (``headcount.annotator_transport``) and, with the default policy, is left out of the posterior.
"""


import logging
import os
import pickle
from pathlib import Path
from typing import Optional

import dagster as dg
import numpy as np
import polars as pl

from workforce_assets import settings
from workforce_assets.headcount import parameters as parameters_core
from workforce_assets.headcount import posterior as posterior_core
from workforce_assets.headcount.log_debias import log_debias as original_log_debias
from workforce_assets.headcount.log_debias import method_counts_from_samples
from workforce_assets.headcount.model import HeadcountModel, usable_annotators
from workforce_assets.pipeline.annotation_assets import annotation_matrix, rated_cv_matrix
from workforce_assets.pipeline.ingestion_assets import companies, company_counts
from workforce_assets.pipeline.metadata import markdown_table, table_metadata
from workforce_assets.pipeline.partitions import COMPANY_BATCHES, DUCKDB_POOL
from workforce_assets.pipeline.resources import WarehouseResource

log = logging.getLogger(__name__)

GROUP = "headcount"
ID_COLUMNS = {"item_id", "is_ml_expert", "company_id", "batch"}
SUMMARY_TABLE = "headcount.company_posteriors"
DRAWS_TABLE = "headcount.posterior_draws"
JOINT_TABLE = "headcount.joint_estimate"
JOINT_DRAWS_TABLE = "headcount.joint_draws"
TRANSPORT_TABLE = "headcount.annotator_transport"
FIT_TABLE = "headcount.company_model_fit"
COMPARISON_TABLE = "headcount.transport_comparison"
UNSAMPLED_TABLE = "headcount.unsampled_company_posteriors"


class HeadcountConfig(dg.Config):
    """Settings of the joint fit. Unset values come from the environment when the asset runs
    (WORKFORCE_POSTERIOR_DRAWS, default 1000; WORKFORCE_TRANSPORT_POLICY, default 'exclude')."""

    n_draws: Optional[int] = None
    seed: int = 20240601
    transport_policy: Optional[str] = None


MODEL_FILE = "headcount_model.pkl"


def model_path(warehouse: WarehouseResource) -> Path:
    """The fitted HeadcountModel of the last joint fit (models/ beside the warehouse's DuckDB file)."""
    return warehouse.path.parent / "models" / MODEL_FILE


def save_model(warehouse: WarehouseResource, model: HeadcountModel) -> Path:
    """Pickle to a temporary name, then rename: a crash leaves the previous model or the new one, never half."""
    path = model_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)
    return path


def load_model(warehouse: WarehouseResource) -> HeadcountModel:
    path = model_path(warehouse)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: materialize headcount/joint_fit first")
    with path.open("rb") as handle:
        return pickle.load(handle)


def annotator_columns(df: pl.DataFrame) -> list[str]:
    return sorted(c for c in df.columns if c not in ID_COLUMNS)


@dg.asset(key_prefix="headcount", group_name=GROUP, deps=[rated_cv_matrix], pool=DUCKDB_POOL, kinds={"duckdb", "scipy"})
def annotator_parameters(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Each annotator's sensitivity and specificity on the rated CVs, with 80% Wilson intervals.

    An annotator without labels on both classes of the rated CVs has no parameters: it is listed in the
    metadata (``annotators_without_rated_labels``) instead of getting NaN.
    """
    rated = warehouse.read("annotation.rated_cv_matrix")
    names = annotator_columns(rated)
    usable, dropped = usable_annotators(rated, rated, names)
    for name, reason in dropped.items():
        log.warning("annotator %s has no parameters: %s", name, reason)
    params = parameters_core.annotator_parameters(rated, usable)
    warehouse.write("headcount.annotator_parameters", params)
    return dg.MaterializeResult(metadata={
        **table_metadata(params, "headcount.annotator_parameters", preview_rows=30),
        "annotators_without_rated_labels": dg.MetadataValue.json(dropped),
    })


def _transport_rows(model: HeadcountModel) -> pl.DataFrame:
    """One row per annotator seen: those tested (with their evidence) and those left out for lack of labels."""
    rows = model.transport_.with_columns(pl.when(pl.col("excluded")).then(pl.lit("transport")).otherwise(None).alias("left_out_for"))
    dropped = pl.DataFrame(
        {"annotator": list(model.annotators_dropped_), "excluded": [True] * len(model.annotators_dropped_),
         "reason": list(model.annotators_dropped_.values()),
         "left_out_for": ["missing labels"] * len(model.annotators_dropped_)},
        schema={"annotator": pl.Utf8, "excluded": pl.Boolean, "reason": pl.Utf8, "left_out_for": pl.Utf8},
    )
    return pl.concat([rows, dropped], how="diagonal_relaxed")


@dg.asset(
    key_prefix="headcount", group_name=GROUP,
    deps=[
        dg.AssetDep(annotation_matrix, partition_mapping=dg.AllPartitionMapping()),
        rated_cv_matrix, companies, annotator_parameters,
    ],
    pool=DUCKDB_POOL, kinds={"duckdb", "numpy"},
)
def joint_fit(context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: HeadcountConfig) -> dg.MaterializeResult:
    """The headcount model fitted once over every company: annotator transport checks, annotator model and
    prevalence prior (bootstrap / exact parameter draws), the joint draws of every company's whole-company
    count, and a posterior-predictive check per company. Writes headcount.joint_estimate (summary per company),
    headcount.joint_draws, headcount.annotator_transport, headcount.company_model_fit and
    headcount.transport_comparison in one transaction."""
    n_draws = config.n_draws or settings.posterior_draws()
    policy = config.transport_policy or settings.transport_policy()
    rated = warehouse.read("annotation.rated_cv_matrix").sort("item_id")
    samples = warehouse.read("annotation.annotation_matrix").sort(["company_id", "item_id"])
    company_table = warehouse.read("inputs.companies").sort("company_id")
    candidates = annotator_columns(samples)
    model = HeadcountModel(transport_policy=policy).fit(
        rated, samples.drop("batch"), company_table, annotators=candidates, seed=config.seed)
    estimate = model.sample(n_draws, config.seed)
    for warning in model.warnings_:
        context.log.warning(warning)
    batch_of = dict(zip(samples["company_id"].to_list(), samples["batch"].to_list()))
    summary = estimate.summary.with_columns(batch=pl.Series([batch_of.get(c) for c in estimate.summary["company_id"]],
                                                            dtype=pl.Utf8))
    draws = pl.DataFrame({"company_id": summary["company_id"], "batch": summary["batch"],
                          "draws": pl.Series(estimate.draws.tolist(), dtype=pl.List(pl.Int64))})
    transport = _transport_rows(model)
    fit = model.company_fit_ if model.company_fit_ is not None else pl.DataFrame(
        schema={"company_id": pl.Utf8, "n_sampled": pl.Int64, "discrepancy": pl.Float64, "p_value": pl.Float64,
                "p_adjusted": pl.Float64})
    comparison = model.comparison_ if model.comparison_ is not None else pl.DataFrame(
        schema={"company_id": pl.Utf8, "q50_retained": pl.Float64, "q50_all_annotators": pl.Float64})
    warehouse.write_many([(JOINT_TABLE, summary), (JOINT_DRAWS_TABLE, draws), (TRANSPORT_TABLE, transport),
                          (FIT_TABLE, fit), (COMPARISON_TABLE, comparison)])
    saved = save_model(warehouse, model)  # the planning assets update this fitted model with simulated samples
    sampled = summary.filter(~pl.col("prior_only"))
    worst_fit = fit.filter(pl.col("p_adjusted").is_not_null()).sort("p_adjusted").head(5)
    return dg.MaterializeResult(metadata={
        **table_metadata(summary, JOINT_TABLE, preview_rows=20),
        "method": dg.MetadataValue.text(str(summary["method"][0]) if summary.height else ""),
        "n_draws": dg.MetadataValue.int(n_draws),
        "summary_draws": dg.MetadataValue.int(int(estimate.diagnostics["summary_draws"])),
        "parameter_uncertainty": dg.MetadataValue.text(estimate.diagnostics["parameter_uncertainty"]),
        "n_parameter_replicates": dg.MetadataValue.int(int(estimate.diagnostics["n_bootstrap"])),
        "transport_policy": dg.MetadataValue.text(policy),
        "annotators_used": dg.MetadataValue.json(model.annotators_),
        "annotators_excluded_by_transport": dg.MetadataValue.json(model.excluded_annotators_),
        "annotators_without_labels": dg.MetadataValue.json(model.annotators_dropped_),
        "transport": dg.MetadataValue.md(markdown_table(transport.select(
            "annotator", "excluded", "profile_positive_rate", "rated_false_positive_rate", "rated_sensitivity",
            "predicted_positive_rate", "reason").with_columns(pl.col(pl.Float64).round(4)))),
        "warnings": dg.MetadataValue.json(model.warnings_),
        "n_sampled_companies": dg.MetadataValue.int(sampled.height),
        "n_extrapolated_companies": dg.MetadataValue.int(int(summary["extrapolated"].sum())),
        "max_mcse_q50_share_sampled_100": dg.MetadataValue.float(float(
            (sampled.filter(pl.col("n_sampled") >= 100).select(pl.col("mcse_q50") / pl.max_horizontal(pl.col("q50"), 1.0))
             .max().item() or 0.0) if sampled.height else 0.0)),
        "worst_model_fit": dg.MetadataValue.md(markdown_table(worst_fit) if worst_fit.height else "no sampled company"),
        "prior_family": dg.MetadataValue.text(str(estimate.diagnostics.get("prior_family"))),
        "prior_penalty": dg.MetadataValue.text(str(estimate.diagnostics.get("prior_penalty"))),
        "prior_held_out_scores": dg.MetadataValue.json(estimate.diagnostics.get("prior_held_out_scores") or {}),
        # the share of companies without any expert, and which fit set it (see HeadcountOptions.prior_zero_weight)
        "prior_zero_weight": dg.MetadataValue.float(float(estimate.diagnostics.get("prior_zero_weight_median", 0.0))),
        "prior_zero_weight_source": dg.MetadataValue.text(str(estimate.diagnostics.get("prior_zero_weight_source"))),
        "model_path": dg.MetadataValue.path(str(saved)),
    })


@dg.asset(
    key_prefix="headcount", group_name=GROUP, partitions_def=COMPANY_BATCHES,
    deps=[joint_fit], pool=DUCKDB_POOL, kinds={"duckdb"},
    # every batch's rows come from the one joint fit: a backfill over many batches is one run, not one per batch
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def company_posteriors(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Posterior of each sampled company's whole-company ML-expert count (its batch's rows of the joint fit):
    q05-q95, mean, sd, P(at least one), Monte Carlo standard errors of q10/q50/q90; draws in
    headcount.posterior_draws. A run may cover one batch or a range of batches (single-run backfills); the
    summaries and draws of every batch in it are written in one transaction."""
    batches = list(context.partition_keys)
    marks = ", ".join("?" for _ in batches)
    summary = warehouse.read(JOINT_TABLE, where=f"batch in ({marks})", params=batches)
    draws = warehouse.read(JOINT_DRAWS_TABLE, where=f"batch in ({marks})", params=batches)
    writes = []
    for batch in batches:
        writes += [(SUMMARY_TABLE, summary.filter(pl.col("batch") == batch), "batch", batch),
                   (DRAWS_TABLE, draws.filter(pl.col("batch") == batch), "batch", batch)]
    warehouse.write_many(writes)
    return dg.MaterializeResult(metadata={
        **table_metadata(summary, SUMMARY_TABLE, preview_rows=20),
        "batches": dg.MetadataValue.json(batches),
        "expected_total": dg.MetadataValue.float(float(summary["mean"].sum()) if summary.height else 0.0),
    })


@dg.asset(
    key_prefix="headcount", group_name=GROUP,
    deps=[joint_fit, company_posteriors, companies], pool=DUCKDB_POOL, kinds={"duckdb", "numpy"},
)
def headcount_totals(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Totals from summed joint draws (never summed percentiles). The default total ('all') is the sampled
    companies plus the unsampled ones that resemble sampled companies; extrapolated companies (nothing
    sampled resembles them) are reported apart and only in 'all_including_extrapolated'. Companies without
    a sample are listed in headcount.unsampled_company_posteriors, flagged, never a silent zero."""
    summary = warehouse.read(JOINT_TABLE)
    stored = warehouse.read(JOINT_DRAWS_TABLE)
    order = {c: i for i, c in enumerate(stored["company_id"].to_list())}
    summary = summary.with_columns(_order=pl.col("company_id").replace_strict(order, return_dtype=pl.Int64)).sort("_order").drop("_order")
    draws = np.array(stored["draws"].to_list(), dtype=np.int64)
    company_table = warehouse.read("inputs.companies")
    result = posterior_core.totals_by_part(summary, draws, company_table)
    unsampled = summary.filter(pl.col("prior_only"))
    warehouse.write_many([("headcount.headcount_totals", result), (UNSAMPLED_TABLE, unsampled)])
    parts = result.filter(pl.col("grouping") == "part")
    return dg.MaterializeResult(metadata={
        **table_metadata(result, "headcount.headcount_totals", preview_rows=30),
        "n_unsampled_companies": dg.MetadataValue.int(unsampled.height),
        "n_extrapolated_companies": dg.MetadataValue.int(int(summary["extrapolated"].sum())),
        "parts": dg.MetadataValue.md(markdown_table(parts.with_columns(pl.col(pl.Float64).round(1)))),
    })


@dg.asset(
    key_prefix="headcount", group_name=GROUP,
    deps=[dg.AssetDep(annotation_matrix, partition_mapping=dg.AllPartitionMapping()), companies, company_counts],
    pool=DUCKDB_POOL, kinds={"duckdb", "numpy"},
)
def log_debias(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The study's log-debias estimator, a company-level second view.

    Where company_counts.csv gives its defined inputs (company-wide keyword-search counts per filter, LLM
    accept counts) it is the study's estimator exactly (``inputs_used = 'company_counts'``). For companies
    known only through employee samples it is fed each annotator's sample share x headcount
    (``inputs_used = 'employee_samples'``): that is NOT the study's estimator (the filters' counts are not
    company-wide searches), and the two populations are never pooled (method biases are estimated within each).
    """
    frames, used = [], {}
    counts = warehouse.read("inputs.company_counts") if warehouse.exists("inputs.company_counts") else pl.DataFrame()
    if counts.height:
        filters = [c for c in counts.columns if c.startswith("filter_")]
        llms = [c for c in counts.columns if c.endswith("_accepted")]
        result = original_log_debias(counts, filter_methods=filters, llm_methods=llms)
        frames.append(result.with_columns(inputs_used=pl.lit("company_counts")))
        used["company_counts"] = {"companies": counts.height, "filter_methods": filters, "llm_methods": llms}
    samples = warehouse.read("annotation.annotation_matrix")
    company_table = warehouse.read("inputs.companies")
    covered = set(counts["company_id"].to_list()) if counts.height else set()
    company_table = company_table.filter(~pl.col("company_id").is_in(list(covered)))
    samples = samples.filter(~pl.col("company_id").is_in(list(covered)))
    if samples.height:
        names = annotator_columns(samples)
        names = [n for n in names if samples[n].null_count() < samples.height]
        implied = method_counts_from_samples(samples, company_table, names)
        filters = [n for n in names if n.startswith("filter_")]
        llms = [n for n in names if not n.startswith("filter_")]
        result = original_log_debias(implied, filter_methods=filters, llm_methods=llms)
        frames.append(result.with_columns(inputs_used=pl.lit("employee_samples")))
        used["employee_samples"] = {"companies": company_table.height, "filter_methods": filters, "llm_methods": llms,
                                    "note": "sample share x headcount per annotator: not the study's estimator"}
    result = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(
        schema={"company_id": pl.Utf8, "estimate": pl.Float64, "lower80": pl.Float64, "upper80": pl.Float64,
                "n_methods": pl.Int64, "inputs_used": pl.Utf8})
    warehouse.write("headcount.log_debias", result)
    return dg.MaterializeResult(metadata={
        **table_metadata(result, "headcount.log_debias"),
        "inputs_used": dg.MetadataValue.json(used),
        "is_study_estimator": dg.MetadataValue.bool("employee_samples" not in used and bool(used)),
    })
