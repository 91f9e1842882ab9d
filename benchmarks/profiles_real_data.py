"""Profile clusters and affiliations on the real texts (prints markdown for docs/validation.md section 8).

Clusters: the 1,859 unlabelled profile texts and the 585 rated CVs, embedded with the packaged MiniLM
(cached by content in --cache), clustered with two seeds: the clusters of each, the agreement between the
two seeds' partitions (adjusted Rand index), the subsample stability, and the timing. Affiliations: the
hand-labelled fixture (workforce_assets_tests/profiles/fixtures), extraction precision / recall and
categorisation per category.

    .venv/bin/python benchmarks/profiles_real_data.py [--cache /tmp/embedding_cache]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl
from sklearn.metrics import adjusted_rand_score

from workforce_assets.annotation.embeddings import CachedEmbeddingBackend, LocalSentenceTransformerBackend
from workforce_assets.profiles import affiliations as af
from workforce_assets.profiles.clustering import ProfileClustering, cluster_tables
from markdown_table import markdown  # benchmarks/markdown_table.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "annotations"
FIXTURES = ROOT / "workforce_assets_tests" / "profiles" / "fixtures"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path("/tmp/embedding_cache"))
    parser.add_argument("--hdbscan", action="store_true", help="also the HDBSCAN grid that was tried first")
    args = parser.parse_args()
    unlabeled = pl.read_csv(DATA / "profiles_unlabeled.csv", schema_overrides={"cv_id": pl.Utf8})
    rated = pl.read_csv(DATA / "validation_annotations.csv", schema_overrides={"cv_id": pl.Utf8})
    texts = pl.concat([
        unlabeled.select(text_id="cv_id", text="cv_text", source=pl.lit("unlabeled"), company_id=pl.lit(None, pl.Utf8),
                         is_ml_expert=pl.lit(None, pl.Int64)),
        rated.select(text_id="cv_id", text="cv_text", source=pl.lit("rated_cv"), company_id=pl.lit(None, pl.Utf8),
                     is_ml_expert=pl.col("is_ml_expert").cast(pl.Int64)),
    ]).filter(pl.col("text").fill_null("").str.strip_chars() != "")
    started = time.perf_counter()
    with CachedEmbeddingBackend(LocalSentenceTransformerBackend(), args.cache) as backend:
        vectors = backend.embed(texts["text"].to_list())
    embed_s = time.perf_counter() - started
    print(f"{texts.height:,} texts embedded in {embed_s:.1f} s ({backend.n_embedded} computed, {backend.n_cached} cached)\n")
    if args.hdbscan:
        hdbscan_grid(vectors)
    labels = []
    for seed in (0, 1):
        started = time.perf_counter()
        model = ProfileClustering(seed=seed).fit(vectors, texts["text"].to_list())
        clusters, _, _ = cluster_tables(model, texts)
        labels.append(model.labels_)
        print(f"#### Seed {seed}: k = {model.n_clusters_}, seed agreement {model.seed_agreement_:.3f}, "
              f"subsample stability {model.stability_:.3f} ({time.perf_counter() - started:.1f} s)\n")
        print(markdown(pl.DataFrame(model.selection_).with_columns(pl.col("seed_agreement", "silhouette").round(3))))
        print()
        print(markdown(clusters.select("cluster_id", "label", "size", "n_rated_cvs", "n_other_texts",
                                       pl.col("rated_expert_share").round(3))))
        print()
    print(f"Agreement between the two seeds' final partitions: ARI {adjusted_rand_score(*labels):.3f}\n")

    ids = pl.read_csv(FIXTURES / "affiliations_sample_ids.csv", schema_overrides={"cv_id": pl.Utf8})
    gold = pl.read_csv(FIXTURES / "affiliations_gold.csv", schema_overrides={"cv_id": pl.Utf8})
    every = {**dict(zip(unlabeled["cv_id"], unlabeled["cv_text"])), **dict(zip(rated["cv_id"], rated["cv_text"]))}
    result = af.evaluate({i: every[i] for i in ids["cv_id"]}, gold)
    print(f"#### Affiliations: {result['n_gold']} hand-labelled affiliations of {result['n_texts']} texts\n")
    print(f"extraction precision {result['extraction_precision']:.3f}, recall {result['extraction_recall']:.3f}, "
          f"category accuracy {result['category_accuracy']:.3f}\n")
    print(markdown(pl.DataFrame([{"category": c, **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}}
                                 for c, r in result["per_category"].items()])))
    print("\nMiscategorised:", "; ".join(f"{k[1]} ({g} -> {p})" for k, g, p in result["miscategorised"]))


def hdbscan_grid(vectors) -> None:
    """Why not HDBSCAN: the share of texts it leaves as noise on PCA reductions (no UMAP offline)."""
    import numpy as np
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    normalised = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = []
    for dims in (5, 10, 15):
        reduced = PCA(dims, random_state=0).fit_transform(normalised)
        for size, samples, method in [(41, None, "eom"), (41, 5, "eom"), (20, 5, "eom"), (20, 5, "leaf"), (41, 10, "leaf")]:
            found = HDBSCAN(min_cluster_size=size, min_samples=samples, cluster_selection_method=method).fit_predict(reduced)
            rows.append({"pca_dims": dims, "min_cluster_size": size, "min_samples": samples or "default",
                         "selection": method, "clusters": int(found.max() + 1), "noise_share": round(float((found == -1).mean()), 3)})
    print("#### HDBSCAN (tried first)\n")
    print(markdown(pl.DataFrame(rows)))
    print()


if __name__ == "__main__":
    main()
