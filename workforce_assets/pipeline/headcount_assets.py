"""Assets of the `headcount` group: annotator parameters, company posteriors, totals and log-debias.

Annotators are aligned by canonical name between the rated CVs and the profiles: an annotator is used for
profiles only if it also has labels on the rated CVs (an asset check guards this).
"""


import os

import dagster as dg
import numpy as np
import polars as pl

from workforce_assets.headcount.log_debias import log_debias as original_log_debias
from workforce_assets.headcount.log_debias import method_counts_from_samples
from workforce_assets.headcount import parameters as parameters_core
from workforce_assets.headcount import posterior as posterior_core
from workforce_assets.pipeline.annotation_assets import annotation_matrix, rated_cv_matrix
from workforce_assets.pipeline.ingestion_assets import companies
from workforce_assets.pipeline.metadata import table_metadata
from workforce_assets.pipeline.partitions import COMPANY_BATCHES, DUCKDB_POOL
from workforce_assets.pipeline.resources import WarehouseResource

GROUP = "headcount"
ID_COLUMNS = {"item_id", "is_ml_expert", "company_id", "batch"}
SUMMARY_TABLE = "headcount.company_posteriors"
DRAWS_TABLE = "headcount.posterior_draws"


class PosteriorConfig(dg.Config):
    """Posterior draws and seed; more draws give smoother quantiles at linear cost."""

    n_draws: int = int(os.environ.get("WORKFORCE_POSTERIOR_DRAWS", "1000"))
    seed: int = 20240601


def annotator_columns(df: pl.DataFrame) -> list[str]:
    return sorted(c for c in df.columns if c not in ID_COLUMNS)


def _rated(warehouse: WarehouseResource) -> pl.DataFrame:
    return warehouse.read("annotation.rated_cv_matrix")


def _shared_annotators(rated: pl.DataFrame, samples: pl.DataFrame) -> tuple[list[str], list[str]]:
    """Annotators usable for profiles (labelled on both sides) and those ignored for lack of rated labels."""
    rated_names = {c for c in annotator_columns(rated) if rated[c].is_not_null().any()}
    sample_names = set(annotator_columns(samples))
    return sorted(sample_names & rated_names), sorted(sample_names - rated_names)


@dg.asset(key_prefix="headcount", group_name=GROUP, deps=[rated_cv_matrix], pool=DUCKDB_POOL, kinds={"duckdb", "scipy"})
def annotator_parameters(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Each annotator's sensitivity and specificity on the rated CVs, with 80% Wilson intervals."""
    rated = _rated(warehouse)
    params = parameters_core.annotator_parameters(rated, annotator_columns(rated))
    warehouse.write("headcount.annotator_parameters", params)
    return dg.MaterializeResult(metadata=table_metadata(params, "headcount.annotator_parameters", preview_rows=30))


def _estimate_all(warehouse: WarehouseResource, config: PosteriorConfig):
    """The joint estimate over every company: rated CVs + all materialized batches + unsampled companies.

    Inputs are sorted so the same data and seed give the same draws in every batch's run and in the totals.
    """
    rated = _rated(warehouse).sort("item_id")
    samples = warehouse.read("annotation.annotation_matrix").sort(["company_id", "item_id"])
    annotators, ignored = _shared_annotators(rated, samples)
    if not annotators:
        raise ValueError("no annotator has labels on both the rated CVs and the profiles: nothing to infer from")
    company_table = warehouse.read("inputs.companies").sort("company_id")
    estimate = posterior_core.estimate_company_headcounts(
        rated, samples.drop("batch"), company_table, annotators, n_draws=config.n_draws, seed=config.seed
    )
    batch_of = dict(zip(samples["company_id"].to_list(), samples["batch"].to_list()))
    return estimate, batch_of, annotators, ignored, company_table


@dg.asset(
    key_prefix="headcount", group_name=GROUP, partitions_def=COMPANY_BATCHES,
    deps=[
        dg.AssetDep(annotation_matrix, partition_mapping=dg.AllPartitionMapping()),
        rated_cv_matrix, companies, annotator_parameters,
    ],
    pool=DUCKDB_POOL, kinds={"duckdb", "numpy"},
)
def company_posteriors(context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: PosteriorConfig) -> dg.MaterializeResult:
    """Posterior of each sampled company's whole-company ML-expert count (finite-population draws).

    The annotator model and the prevalence prior are fitted on the rated CVs and on the samples of every
    batch materialized so far (all companies inform the prior); this partition stores its own companies.
    """
    batch = context.partition_key
    estimate, batch_of, annotators, ignored, _ = _estimate_all(warehouse, config)
    keep = np.array([batch_of.get(c) == batch for c in estimate.summary["company_id"].to_list()])
    summary = estimate.summary.filter(pl.Series(keep)).with_columns(batch=pl.lit(batch))
    draws = pl.DataFrame(
        {"company_id": summary["company_id"], "batch": batch,
         "draws": pl.Series(estimate.draws[keep].astype(np.int64).tolist(), dtype=pl.List(pl.Int64))}
    )
    warehouse.write(SUMMARY_TABLE, summary, "batch", batch)
    warehouse.write(DRAWS_TABLE, draws, "batch", batch)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(summary, SUMMARY_TABLE, preview_rows=20),
            "method": dg.MetadataValue.text(str(summary["method"][0]) if summary.height else ""),
            "annotators_used": dg.MetadataValue.json(annotators),
            "annotators_ignored_no_rated_labels": dg.MetadataValue.json(ignored),
            "n_draws": dg.MetadataValue.int(config.n_draws),
            "batch_expected_total": dg.MetadataValue.float(float(summary["mean"].sum())),
        }
    )


@dg.asset(
    key_prefix="headcount", group_name=GROUP,
    deps=[company_posteriors, companies, rated_cv_matrix], pool=DUCKDB_POOL, kinds={"duckdb", "numpy"},
)
def headcount_totals(warehouse: WarehouseResource, config: PosteriorConfig) -> dg.MaterializeResult:
    """Totals over all companies, by country and by batch, from summed joint draws (never summed percentiles).

    Companies without any sampled employee enter with their prior predictive, flagged ``prior_only``
    (stored in headcount.unsampled_company_posteriors), never as a silent zero.
    """
    estimate, batch_of, _, _, company_table = _estimate_all(warehouse, config)
    ids = estimate.summary["company_id"].to_list()
    prior_only = estimate.summary.filter(pl.col("prior_only"))
    warehouse.write("headcount.unsampled_company_posteriors", prior_only)
    stored = warehouse.read(DRAWS_TABLE)
    stored_draws = dict(zip(stored["company_id"].to_list(), stored["draws"].to_list()))
    consistent = all(np.array_equal(stored_draws[c], row) for c, row in zip(ids, estimate.draws) if c in stored_draws)
    groups = {"batch": {c: batch_of.get(c, "(unsampled)") for c in ids}}
    if "country" in company_table.columns:
        country = dict(zip(company_table["company_id"].to_list(), company_table["country"].fill_null("unknown").to_list()))
        groups["country"] = {c: country.get(c, "unknown") for c in ids}
    frames = [posterior_core.totals(estimate.draws, ids).with_columns(grouping=pl.lit("all"))]
    frames += [posterior_core.totals(estimate.draws, ids, groups=g).with_columns(grouping=pl.lit(name)) for name, g in groups.items()]
    result = pl.concat(frames, how="diagonal_relaxed")
    warehouse.write("headcount.headcount_totals", result)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(result, "headcount.headcount_totals", preview_rows=30),
            "n_unsampled_companies": dg.MetadataValue.int(prior_only.height),
            "draws_match_stored_partitions": dg.MetadataValue.bool(consistent),
        }
    )


@dg.asset(key_prefix="headcount", group_name=GROUP, deps=[annotation_matrix, companies], pool=DUCKDB_POOL, kinds={"duckdb", "numpy"})
def log_debias(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The original log-debias estimator: a company-level second view from the per-method counts."""
    samples = warehouse.read("annotation.annotation_matrix")
    names = annotator_columns(samples)
    counts = method_counts_from_samples(samples, warehouse.read("inputs.companies"), names)
    filters = [n for n in names if n.startswith("filter_")]
    llms = [n for n in names if n.startswith("llm_")]
    result = original_log_debias(counts, filter_methods=filters, llm_methods=llms)
    warehouse.write("headcount.log_debias", result)
    return dg.MaterializeResult(
        metadata={**table_metadata(result, "headcount.log_debias"), "filter_methods": dg.MetadataValue.json(filters), "llm_methods": dg.MetadataValue.json(llms)}
    )
