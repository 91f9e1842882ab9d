"""Assets of the `profiles` group: clusters of profile texts and academic affiliations.

``profiles/clusters`` embeds every employee profile, rated CV and unlabelled profile text through the
embeddings resource (Modal when configured, the packaged MiniLM otherwise; vectors cached by text content),
clusters them and labels each cluster by c-TF-IDF (:mod:`workforce_assets.profiles.clustering`).
``profiles/affiliations`` reads the organisations each sampled employee worked or studied at and categorises
them (:mod:`workforce_assets.profiles.affiliations`).
"""


import logging
from typing import Optional

import dagster as dg
import numpy as np
import polars as pl

from workforce_assets.annotation.embeddings import CachedEmbeddingBackend
from workforce_assets.pipeline.annotation_assets import NETWORK_RETRY
from workforce_assets.pipeline.ingestion_assets import employee_profiles, organisation_categories, rated_cvs, unlabeled_profiles
from workforce_assets.pipeline.metadata import markdown_table, report_dir, report_links, table_metadata
from workforce_assets.pipeline.partitions import DUCKDB_POOL
from workforce_assets.pipeline.resources import EmbeddingsResource, WarehouseResource
from workforce_assets.profiles import affiliations as affiliation_core
from workforce_assets.profiles import clustering as clustering_core
from workforce_assets.profiles import plots as profile_plots

log = logging.getLogger(__name__)

GROUP = "profiles"
CLUSTERS_TABLE = "profiles.clusters"
MEMBERS_TABLE = "profiles.cluster_members"
MIX_TABLE = "profiles.company_cluster_mix"
SELECTION_TABLE = "profiles.cluster_selection"
AFFILIATIONS_TABLE = "profiles.affiliations"
AFFILIATION_SUMMARY_TABLE = "profiles.company_affiliations"


class ClusteringConfig(dg.Config):
    """Profile clustering settings: a fixed number of clusters (default: chosen by seed agreement), the seed
    agreement a candidate needs, subsample refits for the stability measure, the seed."""

    n_clusters: Optional[int] = None
    min_agreement: float = 0.8
    n_resamples: int = 5
    seed: int = 0
    # employee profiles beyond this are represented by a seeded random sample of this size (every rated CV and
    # unlabelled text is kept): embedding runs at 35-47 texts/s on this CPU (docs/benchmarks.md), so cost must not
    # grow with a million employees; raise it (ideally with the Modal backend) to cluster every profile
    max_profiles: int = 2_000


def _texts(warehouse: WarehouseResource) -> pl.DataFrame:
    """Every text to cluster: employee profiles, rated CVs, unlabelled profiles (empty texts left out)."""
    frames = [
        warehouse.read("inputs.employee_profiles").select(
            text_id="profile_id", text="profile_text", source=pl.lit("profile"), company_id="company_id",
            is_ml_expert=pl.lit(None, dtype=pl.Int64)),
        warehouse.read("inputs.rated_cvs").select(
            text_id="cv_id", text="cv_text", source=pl.lit("rated_cv"), company_id=pl.lit(None, dtype=pl.Utf8),
            is_ml_expert=pl.col("is_ml_expert").cast(pl.Int64)),
    ]
    if warehouse.exists("inputs.unlabeled_profiles"):
        frames.append(warehouse.read("inputs.unlabeled_profiles").select(
            text_id="cv_id", text="cv_text", source=pl.lit("unlabeled"), company_id=pl.lit(None, dtype=pl.Utf8),
            is_ml_expert=pl.lit(None, dtype=pl.Int64)))
    texts = pl.concat(frames)
    return texts.filter(pl.col("text").fill_null("").str.strip_chars() != "").sort("source", "text_id")


def limit_profiles(texts: pl.DataFrame, max_profiles: int, seed: int) -> tuple[pl.DataFrame, int]:
    """At most ``max_profiles`` employee-profile texts (a seeded random sample), every other text kept; and
    how many profile texts there were."""
    if max_profiles < 1:
        raise ValueError("max_profiles must be at least 1")
    is_profile = pl.col("source") == "profile"
    n_profile_texts = texts.filter(is_profile).height
    if n_profile_texts <= max_profiles:
        return texts, n_profile_texts
    keep = texts.filter(is_profile).sample(n=max_profiles, seed=seed)["text_id"].to_list()
    return texts.filter(~is_profile | pl.col("text_id").is_in(keep)), n_profile_texts


@dg.asset(
    key_prefix="profiles", group_name=GROUP,
    deps=[dg.AssetDep(employee_profiles, partition_mapping=dg.AllPartitionMapping()), rated_cvs, unlabeled_profiles],
    pool=DUCKDB_POOL, kinds={"duckdb", "scikitlearn", "plotly"}, retry_policy=NETWORK_RETRY,
)
def clusters(context: dg.AssetExecutionContext, warehouse: WarehouseResource, embeddings: EmbeddingsResource,
             config: ClusteringConfig) -> dg.MaterializeResult:
    """Clusters of every profile and rated-CV text (k-means on the sentence embeddings, k chosen by seed
    agreement), each labelled by its distinctive phrases (c-TF-IDF), with its size, its share of rated experts
    and each company's cluster mix. Tables: profiles.clusters (one row per cluster: cluster_id, label, size,
    ...), profiles.cluster_members (text -> cluster and map coordinates), profiles.company_cluster_mix,
    profiles.cluster_selection (candidate k, seed agreement, silhouette). The map is linked from the metadata."""
    texts, n_profile_texts = limit_profiles(_texts(warehouse), config.max_profiles, config.seed)
    if n_profile_texts > config.max_profiles:
        context.log.warning(f"{n_profile_texts} employee profile texts: clustering a random sample of "
                            f"{config.max_profiles} (max_profiles); company cluster mixes are estimated from it")
    empty = int(warehouse.query(
        "select count(*) as n from inputs.employee_profiles where trim(coalesce(profile_text, '')) = ''")["n"][0])
    choice = embeddings.get_backend(log=context.log)
    with CachedEmbeddingBackend(choice.backend, embeddings.cache_path(warehouse.path)) as cached:
        vectors = cached.embed(texts["text"].to_list()) if texts.height else None
    context.log.info("embedded %d texts (%d from the cache) with %s", cached.n_embedded + cached.n_cached,
                     cached.n_cached, cached.model_name)
    model = clustering_core.ProfileClustering(n_clusters=config.n_clusters, min_agreement=config.min_agreement,
                                              n_resamples=config.n_resamples, seed=config.seed)
    model.fit(vectors if vectors is not None else np.zeros((0, 2)), texts["text"].to_list())
    cluster_rows, members, mix = clustering_core.cluster_tables(model, texts)
    selection = pl.DataFrame(model.selection_, schema={"k": pl.Int64, "seed_agreement": pl.Float64, "silhouette": pl.Float64})
    warehouse.write_many([(CLUSTERS_TABLE, cluster_rows), (MEMBERS_TABLE, members), (MIX_TABLE, mix),
                          (SELECTION_TABLE, selection)])
    links = report_links(warehouse.path, profile_plots.write_cluster_map(report_dir(warehouse.path, "profiles"), members)) \
        if members.height else {}
    return dg.MaterializeResult(metadata={
        **table_metadata(cluster_rows.drop("top_terms"), CLUSTERS_TABLE, preview_rows=25),
        "n_texts": dg.MetadataValue.int(texts.height),
        "n_texts_by_source": dg.MetadataValue.json({s: int(n) for s, n in texts.group_by("source").len().iter_rows()}),
        "n_profiles_without_text": dg.MetadataValue.int(empty),
        "n_profile_texts": dg.MetadataValue.int(n_profile_texts),
        "n_profile_texts_clustered": dg.MetadataValue.int(int((texts["source"] == "profile").sum())),
        "n_clusters": dg.MetadataValue.int(model.n_clusters_),
        "seed_agreement_ari": dg.MetadataValue.float(float(model.seed_agreement_)) if model.seed_agreement_ is not None
        else dg.MetadataValue.text("n/a (too few texts)"),
        "subsample_stability_ari": dg.MetadataValue.float(float(model.stability_)) if model.stability_ is not None
        else dg.MetadataValue.text("n/a (too few texts)"),
        "k_selection": dg.MetadataValue.md(markdown_table(selection.with_columns(pl.col(pl.Float64).round(3)))
                                           if selection.height else "no candidate"),
        "embeddings/texts_read_from_cache": dg.MetadataValue.int(cached.n_cached),
        "embeddings/texts_embedded": dg.MetadataValue.int(cached.n_embedded),
        "embeddings/model": dg.MetadataValue.text(cached.model_name),
        "embeddings/backend": dg.MetadataValue.text(choice.backend.name),
        **links,
    })


@dg.asset(
    key_prefix="profiles", group_name=GROUP,
    deps=[dg.AssetDep(employee_profiles, partition_mapping=dg.AllPartitionMapping()), organisation_categories],
    pool=DUCKDB_POOL, kinds={"duckdb", "polars"},
)
def affiliations(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The organisations each sampled employee worked or studied at (experience and education entries of the
    profile text), each categorised as academic, industry_lab, company or government_nonprofit (name rules;
    organisation_categories.csv overrides them), one row per profile and organisation
    (profiles.affiliations); per company the shares of sampled employees with an academic affiliation, with a
    PhD and from an industry lab (profiles.company_affiliations). Precision and recall on 272 hand-labelled
    real affiliations: docs/validation.md section 8."""
    profiles = warehouse.read("inputs.employee_profiles").sort("profile_id")
    overrides = warehouse.read("inputs.organisation_categories") if warehouse.exists("inputs.organisation_categories") else None
    override_map = dict(zip(overrides["organisation"].to_list(), overrides["category"].to_list())) if overrides is not None else {}
    rows = affiliation_core.affiliation_table(profiles, overrides=override_map)
    summary = affiliation_core.company_summary(profiles, rows)
    warehouse.write_many([(AFFILIATIONS_TABLE, rows), (AFFILIATION_SUMMARY_TABLE, summary)])
    with_text = int((profiles["profile_text"].fill_null("").str.strip_chars() != "").sum()) if profiles.height else 0
    return dg.MaterializeResult(metadata={
        **table_metadata(rows, AFFILIATIONS_TABLE, preview_rows=15),
        "n_profiles": dg.MetadataValue.int(profiles.height),
        "n_profiles_with_text": dg.MetadataValue.int(with_text),
        "n_profiles_with_an_affiliation": dg.MetadataValue.int(rows["profile_id"].n_unique() if rows.height else 0),
        "by_category": dg.MetadataValue.json({c: int(n) for c, n in rows.group_by("category").len().iter_rows()}),
        "n_user_categorised": dg.MetadataValue.int(int((rows["category_source"] == "user").sum()) if rows.height else 0),
        "company_summary": dg.MetadataValue.md(markdown_table(summary.head(20).with_columns(pl.col(pl.Float64).round(3)))
                                               if summary.height else "no profile"),
    })
