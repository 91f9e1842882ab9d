"""Assets of the `annotation` group: keyword lists, keyword-filter and LLM labels, annotation matrices.

Rated CVs and employee profiles go through the same functions (one implementation of every annotator), so
the accuracy measured on rated CVs is the accuracy of the labels on profiles. Imported labels win over
recomputed ones and are never requested again.
"""


import json

import dagster as dg
import polars as pl

from workforce_assets.annotation import keyword_learning, keyword_table
from workforce_assets.annotation import keywords as kw
from workforce_assets.annotation.embeddings import CachedEmbeddingBackend
from workforce_assets.annotation import llm as llm_core
from workforce_assets.annotation import matrix as matrix_core
from workforce_assets.pipeline.ingestion_assets import employee_profiles, imported_annotations, rated_cvs
from workforce_assets.pipeline.metadata import frame_version, markdown_table, stats_metadata, table_metadata
from workforce_assets.pipeline.partitions import COMPANY_BATCHES, DUCKDB_POOL
from workforce_assets.pipeline.resources import EmbeddingsResource, LLMResource, WarehouseResource

GROUP = "annotation"


class KeywordFilterConfig(dg.Config):
    """Which keyword set the filters use: 'reference' (the original lists) or 'learned' (from rated CVs)."""

    keyword_set: str = "reference"


def _keyword_set(warehouse: WarehouseResource, name: str) -> kw.KeywordSet:
    if name == kw.REFERENCE_KEYWORDS.name:
        return kw.REFERENCE_KEYWORDS
    rows = warehouse.read("annotation.keyword_lists", "set_name = ?", [name])
    if rows.is_empty():
        raise ValueError(f"keyword set {name!r} not found in annotation.keyword_lists (materialize annotation/keyword_lists)")
    return keyword_table.keyword_set_from_frame(rows, name)


def _rated_items(warehouse: WarehouseResource) -> pl.DataFrame:
    return warehouse.read("inputs.rated_cvs").select(pl.col("cv_id").alias("item_id"), pl.col("cv_text").alias("text"))


def _profile_items(warehouse: WarehouseResource, batch: str) -> pl.DataFrame:
    return warehouse.read("inputs.employee_profiles", "batch = ?", [batch]).select(
        pl.col("profile_id").alias("item_id"), pl.col("profile_text").alias("text"), "company_id", "batch"
    )


def _imported_for(warehouse: WarehouseResource, item_ids: pl.Series) -> pl.DataFrame:
    imported = warehouse.read("inputs.imported_annotations")
    return imported.filter(pl.col("item_id").is_in(item_ids.implode())).with_columns(source=pl.lit("imported"))


class KeywordLearningSettings(dg.Config):
    """KeyBERT + TF-IDF keyword learning on the rated CVs (k-fold held-out accuracy is always reported)."""

    learn: bool = True
    top_n: int = 20
    diversity: float = 0.5
    min_doc_freq: int = 5
    n_folds: int = 5
    seed: int = 0


#: Steps that call vendors over the network are retried whole (answers already paid for are cached, so a
#: retry only asks what is still missing); a vendor that answers nothing fails the blocking check instead.
NETWORK_RETRY = dg.RetryPolicy(max_retries=2, delay=20, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


@dg.asset(key_prefix="annotation", group_name=GROUP, deps=[rated_cvs, imported_annotations], pool=DUCKDB_POOL, kinds={"duckdb", "python"},
          retry_policy=NETWORK_RETRY)  # embeddings may be computed on Modal
def keyword_lists(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, embeddings: EmbeddingsResource, config: KeywordLearningSettings
) -> dg.MaterializeResult:
    """The reference keyword lists of the original study, and lists learned from the rated CVs (KeyBERT + TF-IDF).

    The learned lists are validated by k-fold cross-validation: each filter's held-out sensitivity and
    specificity sit beside the in-sample figures (table annotation.keyword_validation).
    """
    rated = warehouse.read("inputs.rated_cvs").select(
        pl.col("cv_id").alias("item_id"), pl.col("cv_text").alias("text"), "is_ml_expert"
    )
    frames = [keyword_table.keyword_set_to_frame(kw.REFERENCE_KEYWORDS)]
    meta: dict = {}
    published = _imported_for(warehouse, rated["item_id"]).filter(pl.col("annotator").is_in(list(kw.FILTER_NAMES)))
    if published["annotator"].n_unique() == len(kw.FILTER_NAMES):
        agreement = keyword_learning.reference_agreement(rated, published_long=published)
        meta["reference_vs_imported_filter_labels"] = dg.MetadataValue.md(markdown_table(agreement))
    if config.learn:
        settings = keyword_learning.KeywordLearningConfig(top_n=config.top_n, diversity=config.diversity, min_doc_freq=config.min_doc_freq)
        choice = embeddings.get_backend(log=context.log)
        # vectors cached by text content: unchanged CVs and phrases are never embedded again
        cache_dir = embeddings.cache_path(warehouse.path)
        with CachedEmbeddingBackend(choice.backend, cache_dir) as cached:
            candidates = keyword_learning.extract_keybert_candidates(rated, cached.keybert_model(), settings,
                                                                     cache_dir=cache_dir, model_name=cached.model_name)
        meta["embeddings/texts_read_from_cache"] = dg.MetadataValue.int(cached.n_cached)
        meta["embeddings/texts_embedded"] = dg.MetadataValue.int(cached.n_embedded)
        validation = keyword_learning.cross_validate_keywords(rated, candidates, settings, n_folds=config.n_folds, seed=config.seed)
        learned = validation.final
        frames.append(
            keyword_table.keyword_set_to_frame(learned.keyword_set).join(
                learned.scores.drop("group", strict=False).rename({"phrase": "term"}), on="term", how="left"
            )
        )
        warehouse.write("annotation.keyword_candidates", learned.scores)
        warehouse.write("annotation.keyword_validation", validation.summary)
        meta.update(stats_metadata(choice.metadata, prefix="embeddings/"))
        meta["held_out_vs_in_sample"] = dg.MetadataValue.md(markdown_table(validation.summary))
    table = pl.concat(frames, how="diagonal_relaxed")
    warehouse.write("annotation.keyword_lists", table)
    return dg.MaterializeResult(metadata={**table_metadata(table, "annotation.keyword_lists"), **meta})


def _filter_labels(warehouse: WarehouseResource, items: pl.DataFrame, config: KeywordFilterConfig) -> pl.DataFrame:
    keyword_set = _keyword_set(warehouse, config.keyword_set)
    labels = kw.apply_keyword_filters(items.select("item_id", "text"), keyword_set)
    return labels.with_columns(keyword_set=pl.lit(keyword_set.name))


def _label_metadata(labels: pl.DataFrame, table: str) -> dict:
    cov = matrix_core.coverage(labels)
    return {**table_metadata(labels, table), "coverage": dg.MetadataValue.md(markdown_table(cov))}


@dg.asset(key_prefix="annotation", group_name=GROUP, deps=[rated_cvs, keyword_lists], pool=DUCKDB_POOL, kinds={"duckdb"})
def rated_cv_filter_labels(warehouse: WarehouseResource, config: KeywordFilterConfig) -> dg.MaterializeResult:
    """The three keyword filters applied to the rated CVs (word-boundary, case-insensitive)."""
    labels = _filter_labels(warehouse, _rated_items(warehouse), config)
    warehouse.write("annotation.rated_cv_filter_labels", labels)
    return dg.MaterializeResult(metadata=_label_metadata(labels, "annotation.rated_cv_filter_labels"))


@dg.asset(
    key_prefix="annotation", group_name=GROUP, partitions_def=COMPANY_BATCHES,
    deps=[employee_profiles, keyword_lists], pool=DUCKDB_POOL, kinds={"duckdb"},
)
def filter_labels(context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: KeywordFilterConfig) -> dg.MaterializeResult:
    """The same three keyword filters applied to one batch of employee profiles."""
    items = _profile_items(warehouse, context.partition_key)
    labels = _filter_labels(warehouse, items, config).with_columns(batch=pl.lit(context.partition_key))
    warehouse.write("annotation.filter_labels", labels, "batch", context.partition_key)
    # a content version: the CLI runs a batch's labellers and matrix together, and an unchanged result must
    # leave what reads it fresh
    return dg.MaterializeResult(metadata=_label_metadata(labels, "annotation.filter_labels"),
                                data_version=frame_version(labels, ["item_id", "annotator"]))


LLM_CHECK = "llm_annotators_answered"
LLM_CHECK_DESCRIPTION = (
    "Every LLM annotator that was called answered at least one item. Fails (and stops the run) when an "
    "annotator answered nothing: bad key, 4xx/5xx, timeouts, an open circuit or the run deadline; the cause "
    "is in the metadata. Annotators without a key are skipped with a warning, not failed."
)


def _llm_labels(context: dg.AssetExecutionContext, warehouse: WarehouseResource, llm: LLMResource,
                items: pl.DataFrame) -> tuple[pl.DataFrame, dict, dg.AssetCheckResult]:
    """Ask the LLM annotators about items lacking an imported label; the warehouse is not held meanwhile."""
    imported = _imported_for(warehouse, items["item_id"]).filter(pl.col("label").is_not_null())
    skip = set(zip(imported["item_id"].to_list(), imported["annotator"].to_list()))
    batch_meta = {}
    if llm.mode == "batch":
        skip, batch_meta = _run_batch_jobs(context, llm, items, skip)
    result = llm_core.annotate_with_llms(
        items.select("item_id", "text"), llm.annotators(), cache_path=llm.cache_path, skip=skip,
        budget_usd=llm.budget_usd, concurrency=llm.concurrency, **llm.vendor_options(),
    )
    for warning in result.stats.get("warnings", []):
        context.log.warning(warning)
    failed = llm_core.failed_annotators(result.stats)
    outcomes = {name: {k: v for k, v in outcome.items() if v is not None}
                for name, outcome in result.stats.get("annotators", {}).items()}
    check = dg.AssetCheckResult(
        check_name=LLM_CHECK, passed=not failed, severity=dg.AssetCheckSeverity.ERROR,
        description=("; ".join(f"{name} answered nothing: {cause}" for name, cause in failed.items())
                     or "every called annotator answered"),
        metadata={"failed_annotators": dg.MetadataValue.json(failed), "annotators": dg.MetadataValue.json(outcomes)},
    )
    stats = {k: v for k, v in result.stats.items() if k != "annotators"}
    return result.rows, {**stats_metadata(stats, prefix="llm/"), **batch_meta}, check


def _run_batch_jobs(context, llm: LLMResource, items: pl.DataFrame, skip: set) -> tuple[set, dict]:
    """Batch mode: the answers come from vendor batch jobs into the shared cache (then the online path reads
    them). Items whose job is still running at the deadline are left out of this run, never sent again
    online at full price: the next materialization collects them."""
    from workforce_assets.annotation import llm_batch

    annotators = llm.annotators()
    wanted = items.filter(pl.col("text").is_not_null())
    stats = llm_batch.annotate_with_batches(
        wanted["text"].to_list(), annotators, llm.cache_path,
        llm_batch.BatchOptions(poll_s=llm.batch_poll_s, deadline_s=llm.batch_deadline_s))
    skip = set(skip)
    waiting = 0
    item_shas = [(item_id, llm_core.text_sha256(text)) for item_id, text in wanted.select("item_id", "text").iter_rows()]
    for annotator in annotators:
        outcome = stats.get(annotator.name, {})
        if outcome.get("error"):
            context.log.warning(f"{annotator.name}: batch jobs failed ({outcome['error']}); answered online instead")
        if not outcome.get("jobs_open"):
            continue
        open_shas = set()
        for row in llm_batch.open_jobs(llm.cache_path, annotator.cache_model).iter_rows(named=True):
            open_shas |= set(json.loads(row["text_sha256s"]))
        for item_id, sha in item_shas:
            if sha in open_shas:
                skip.add((item_id, annotator.name))
                waiting += 1
        context.log.warning(f"{annotator.name}: batch job(s) {outcome['jobs_open']} still running; their items stay "
                            "missing in this run and the next materialization collects them")
    return skip, {"llm_batch/jobs": dg.MetadataValue.json(stats),
                  "llm_batch/items_waiting_for_a_job": dg.MetadataValue.int(waiting)}


def _llm_check_spec(asset_key: list[str]) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(LLM_CHECK, asset=dg.AssetKey(asset_key), blocking=True, description=LLM_CHECK_DESCRIPTION)


@dg.asset(key_prefix="annotation", group_name=GROUP, deps=[rated_cvs, imported_annotations], pool=DUCKDB_POOL,
          kinds={"duckdb", "openai"}, check_specs=[_llm_check_spec(["annotation", "rated_cv_llm_labels"])],
          retry_policy=NETWORK_RETRY)
def rated_cv_llm_labels(context: dg.AssetExecutionContext, warehouse: WarehouseResource, llm: LLMResource) -> dg.MaterializeResult:
    """LLM annotators (litellm) on the rated CVs; cached by (model, prompt version, text hash)."""
    rows, meta, check = _llm_labels(context, warehouse, llm, _rated_items(warehouse))
    warehouse.write("annotation.rated_cv_llm_labels", rows)
    return dg.MaterializeResult(metadata={**table_metadata(rows, "annotation.rated_cv_llm_labels"), **meta},
                                check_results=[check], data_version=frame_version(rows, ["item_id", "annotator"]))


@dg.asset(
    key_prefix="annotation", group_name=GROUP, partitions_def=COMPANY_BATCHES,
    deps=[employee_profiles, imported_annotations], pool=DUCKDB_POOL, kinds={"duckdb", "openai"},
    check_specs=[_llm_check_spec(["annotation", "llm_labels"])], retry_policy=NETWORK_RETRY,
)
def llm_labels(context: dg.AssetExecutionContext, warehouse: WarehouseResource, llm: LLMResource) -> dg.MaterializeResult:
    """LLM annotators (litellm) on one batch of employee profiles; empty text stays missing."""
    rows, meta, check = _llm_labels(context, warehouse, llm, _profile_items(warehouse, context.partition_key))
    rows = rows.with_columns(batch=pl.lit(context.partition_key))
    warehouse.write("annotation.llm_labels", rows, "batch", context.partition_key)
    return dg.MaterializeResult(metadata={**table_metadata(rows, "annotation.llm_labels"), **meta},
                                check_results=[check], data_version=frame_version(rows, ["item_id", "annotator"]))


def _matrix(imported: pl.DataFrame, *computed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Long and wide matrices; imported labels take precedence, annotators aligned by name."""
    long = matrix_core.combine_annotations(imported, *computed)
    return long, matrix_core.long_to_wide(long)


@dg.asset(
    key_prefix="annotation", group_name=GROUP,
    deps=[rated_cvs, imported_annotations, rated_cv_filter_labels, rated_cv_llm_labels], pool=DUCKDB_POOL, kinds={"duckdb"},
)
def rated_cv_matrix(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Rated CVs × annotators (wide, null = missing) with the human label, for fitting annotator models."""
    items = warehouse.read("inputs.rated_cvs").select(pl.col("cv_id").alias("item_id"), "is_ml_expert")
    long, wide = _matrix(
        _imported_for(warehouse, items["item_id"]),
        warehouse.read("annotation.rated_cv_filter_labels"),
        warehouse.read("annotation.rated_cv_llm_labels"),
    )
    wide = items.join(wide, on="item_id", how="left")
    warehouse.write("annotation.rated_cv_matrix_long", long)
    warehouse.write("annotation.rated_cv_matrix", wide)
    cov = matrix_core.coverage(long)
    return dg.MaterializeResult(
        data_version=frame_version(wide, ["item_id"]),  # an unchanged matrix leaves the fits fresh
        metadata={
            **table_metadata(wide, "annotation.rated_cv_matrix"),
            "annotators": dg.MetadataValue.json(sorted(long["annotator"].unique().to_list())),
            "coverage": dg.MetadataValue.md(markdown_table(cov)),
        }
    )


@dg.asset(
    key_prefix="annotation", group_name=GROUP, partitions_def=COMPANY_BATCHES,
    deps=[employee_profiles, imported_annotations, filter_labels, llm_labels], pool=DUCKDB_POOL, kinds={"duckdb"},
)
def annotation_matrix(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Profiles × annotators of one batch (wide, null = missing), with company and batch; long form beside it."""
    batch = context.partition_key
    items = _profile_items(warehouse, batch).select("item_id", "company_id", "batch")
    long, wide = _matrix(
        _imported_for(warehouse, items["item_id"]),
        warehouse.read("annotation.filter_labels", "batch = ?", [batch]),
        warehouse.read("annotation.llm_labels", "batch = ?", [batch]),
    )
    # imported labels carry no batch (they are keyed by item): the profile's batch is the one that counts, so
    # a partition replace finds every row it wrote (a second `batch` column became `batch_right` and left the
    # imported rows with batch NULL, duplicated on every rerun)
    long = long.drop("batch", strict=False).join(items, on="item_id", how="inner")
    wide = items.join(wide, on="item_id", how="left")
    warehouse.write_many([("annotation.annotation_matrix_long", long, "batch", batch),
                          ("annotation.annotation_matrix", wide, "batch", batch)])
    return dg.MaterializeResult(
        data_version=frame_version(wide, ["item_id"]),  # an unchanged matrix leaves the joint fit fresh
        metadata={
            **table_metadata(wide, "annotation.annotation_matrix"),
            "annotators": dg.MetadataValue.json(sorted(long["annotator"].unique().to_list())),
            "coverage": dg.MetadataValue.md(markdown_table(matrix_core.coverage(long))),
        }
    )
