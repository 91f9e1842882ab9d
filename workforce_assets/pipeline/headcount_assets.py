"""Assets of the `headcount` group: annotator parameters, company posteriors, totals and log-debias.

Annotators are aligned by canonical name between the rated CVs and the profiles: an annotator is used for
profiles only if it also has labels on the rated CVs (an asset check guards this).
"""

import hashlib
import json
import os
from pathlib import Path

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
# the joint estimate over all companies, kept with the fingerprint of what produced it: every batch's
# company_posteriors and the totals need the same joint fit, so it is computed once per change of inputs
JOINT_TABLE = "headcount.joint_estimate"


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


def _estimator_source_digest() -> str:
    """Digest of the estimator's source files: editing the statistics invalidates every cached estimate."""
    digest = hashlib.sha256()
    for path in sorted(Path(posterior_core.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def estimate_fingerprint(frames: list[pl.DataFrame], **settings) -> str:
    """sha256 of the inputs, the settings and the estimator's source.

    A frame enters by its schema and polars' seeded row hashes, which depend on the values only (Arrow IPC
    bytes also depend on chunking and buffer layout). A new polars version may hash differently: that costs
    one recomputation, never a wrong reuse.
    """
    digest = hashlib.sha256(_estimator_source_digest().encode())
    for frame in frames:
        digest.update(repr(list(frame.schema.items())).encode())
        digest.update(frame.hash_rows(seed=0).to_numpy().tobytes())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _load_joint(warehouse: WarehouseResource, fingerprint: str) -> posterior_core.HeadcountEstimate | None:
    if not warehouse.exists(JOINT_TABLE):
        return None
    stored = warehouse.read(JOINT_TABLE, where="fingerprint = ?", params=[fingerprint])
    if stored.height == 0:
        return None
    stored = stored.sort("position")
    summary = stored.select(list(posterior_core.SUMMARY_SCHEMA)).cast(posterior_core.SUMMARY_SCHEMA)
    return posterior_core.HeadcountEstimate(summary=summary, draws=stored["draws"].to_numpy().astype(np.int64))


def _store_joint(warehouse: WarehouseResource, fingerprint: str, estimate: posterior_core.HeadcountEstimate) -> None:
    frame = estimate.summary.with_columns(
        fingerprint=pl.lit(fingerprint), position=pl.int_range(estimate.summary.height, dtype=pl.Int64),
        draws=pl.Series(estimate.draws.astype(np.int64)),
    )
    warehouse.write(JOINT_TABLE, frame)


def _estimate_all(warehouse: WarehouseResource, config: PosteriorConfig):
    """The joint estimate over every company: rated CVs + all materialized batches + unsampled companies.

    Inputs are sorted so the same data and seed give the same draws in every batch's run and in the totals;
    the estimate is stored in headcount.joint_estimate under the fingerprint of its inputs, settings and
    estimator code, so the first batch's run computes it and the other batches and the totals reuse it.
    Returns (estimate, batch per company, annotators used, annotators ignored, companies, cached?).
    """
    rated = _rated(warehouse).sort("item_id")
    samples = warehouse.read("annotation.annotation_matrix").sort(["company_id", "item_id"])
    annotators, ignored = _shared_annotators(rated, samples)
    if not annotators:
        raise ValueError("no annotator has labels on both the rated CVs and the profiles: nothing to infer from")
    company_table = warehouse.read("inputs.companies").sort("company_id")
    inputs = [rated, samples.drop("batch"), company_table]
    fingerprint = estimate_fingerprint(inputs, annotators=annotators, n_draws=config.n_draws, seed=config.seed)
    estimate = _load_joint(warehouse, fingerprint)
    cached = estimate is not None
    if not cached:
        estimate = posterior_core.estimate_company_headcounts(*inputs, annotators, n_draws=config.n_draws,
                                                              seed=config.seed)
        _store_joint(warehouse, fingerprint, estimate)
    batch_of = dict(zip(samples["company_id"].to_list(), samples["batch"].to_list()))
    return estimate, batch_of, annotators, ignored, company_table, cached


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
    The joint fit runs once per change of inputs: the other batches' runs reuse it (headcount.joint_estimate).
    """
    batch = context.partition_key
    estimate, batch_of, annotators, ignored, _, cached = _estimate_all(warehouse, config)
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
            "joint_estimate_reused": dg.MetadataValue.bool(cached),
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
    estimate, batch_of, _, _, company_table, cached = _estimate_all(warehouse, config)
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
            "joint_estimate_reused": dg.MetadataValue.bool(cached),
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
