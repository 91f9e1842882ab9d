"""Clusters of profile texts from their sentence embeddings, labelled by their distinctive phrases.

``ProfileClustering(...).fit(embeddings, texts)``: scikit-learn's k-means on a PCA reduction of the
L2-normalised embeddings (spherical k-means in effect), the number of clusters chosen by stability, then
class-based TF-IDF (c-TF-IDF, as BERTopic defines it) over each cluster's texts for its label.

Why not HDBSCAN (the first choice, and what BERTopic uses): without UMAP in front of it (UMAP and numba are
not installable offline here) scikit-learn's HDBSCAN left 54-100% of the 2,444 real texts as noise for every
setting tried (PCA to 5 / 10 / 15 dimensions, min_cluster_size 20 / 41, min_samples 5 / 10 / default, eom and
leaf selection; docs/validation.md section 8), which leaves most companies without a cluster mix. k-means
assigns every text, is in scikit-learn, and its seed dependence is exactly what the stability criterion
measures: among the candidates whose partitions from two seeds agree with an adjusted Rand index of at least
``min_agreement`` (stability-based selection, as Ben-Hur et al.), k is the one with the best silhouette (the
largest stable k split real clusters in two on simulated data); with no stable candidate, the most stable.
c-TF-IDF is a few lines on top of scikit-learn's CountVectorizer (hand-written, with the formula below).

Stability (fitted attributes): ``seed_agreement_`` (ARI between two seeds at the chosen k) and
``stability_`` (mean ARI between the full fit and refits on ``n_resamples`` random 80% subsamples, on the
shared texts). The 2-D map is a t-SNE of the PCA reduction (scikit-learn, fixed seed).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits

#: Words of the profile layout itself, which every text shares.
LAYOUT_WORDS = ["experiences", "certifications", "education", "summary", "skills", "br"]


def _normalise(embeddings: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return embeddings / np.where(norms > 0, norms, 1.0)


def class_tfidf_terms(texts: list[str], labels: np.ndarray, n_terms: int = 8) -> dict[int, list[str]]:
    """Each cluster's most distinctive terms by c-TF-IDF: tf(t, c) / |c| * log(1 + A / f(t)), with |c| the
    cluster's word count, A the mean word count per cluster and f(t) the term's count over all clusters."""
    clusters = sorted(set(labels.tolist()))
    documents = [" ".join(t for t, l in zip(texts, labels) if l == c) for c in clusters]
    if not any(d.strip() for d in documents):
        return {c: [] for c in clusters}
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words=list(ENGLISH_STOP_WORDS | set(LAYOUT_WORDS)),
                                 token_pattern=r"(?u)\b[^\W\d_][\w+#.-]*[\w+#]\b", min_df=1)
    try:
        counts = vectorizer.fit_transform(documents).toarray().astype(float)
    except ValueError:  # only stop words
        return {c: [] for c in clusters}
    words_per_cluster = counts.sum(axis=1, keepdims=True)
    tf = counts / np.maximum(words_per_cluster, 1.0)
    idf = np.log1p(words_per_cluster.mean() / np.maximum(counts.sum(axis=0), 1.0))
    scores = tf * idf[None, :]
    vocabulary = np.asarray(vectorizer.get_feature_names_out())
    out = {}
    for row, c in enumerate(clusters):
        order = np.argsort(-scores[row], kind="stable")
        out[c] = [str(vocabulary[i]) for i in order[:n_terms] if scores[row, i] > 0]
    return out


class ProfileClustering:
    """Cluster profile embeddings (k chosen by stability); label clusters by c-TF-IDF; project to 2-D.

    Fitted attributes: ``labels_`` (cluster per text), ``n_clusters_``, ``terms_`` (cluster -> distinctive
    terms), ``selection_`` (per candidate k: seed agreement and silhouette), ``seed_agreement_``,
    ``stability_`` and ``stability_scores_`` (subsample refits), ``coordinates_`` ((n, 2) t-SNE map, NaN
    when fewer than 5 texts).
    """

    def __init__(self, n_clusters: int | None = None, candidates: tuple[int, ...] = (3, 4, 5, 6, 8, 10, 12, 15, 20),
                 min_agreement: float = 0.8, n_components: int = 50, n_resamples: int = 5,
                 resample_share: float = 0.8, n_terms: int = 8, seed: int = 0, project: bool = True):
        self.n_clusters = n_clusters
        self.candidates = candidates
        self.min_agreement = min_agreement
        self.n_components = n_components
        self.n_resamples = n_resamples
        self.resample_share = resample_share
        self.n_terms = n_terms
        self.seed = seed
        self.project = project

    def _kmeans(self, reduced: np.ndarray, k: int, seed: int) -> np.ndarray:
        return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(reduced).astype(int)

    def fit(self, embeddings: np.ndarray, texts: list[str]) -> "ProfileClustering":
        """Fit on one thread: k-means' and t-SNE's parallel reductions sum in thread order, and the same input
        must give the same table on any machine (the scale-out test compares every table across backends)."""
        with threadpool_limits(limits=1):
            return self._fit(embeddings, texts)

    def _fit(self, embeddings: np.ndarray, texts: list[str]) -> "ProfileClustering":
        embeddings = np.asarray(embeddings, dtype=float)
        if embeddings.ndim != 2 or embeddings.shape[0] != len(texts):
            raise ValueError(f"embeddings {embeddings.shape} do not match {len(texts)} texts")
        n = embeddings.shape[0]
        self.selection_, self.stability_scores_ = [], []
        self.seed_agreement_ = self.stability_ = None
        self.coordinates_ = np.full((n, 2), np.nan)
        distinct = len(set(map(tuple, np.round(embeddings, 6)))) if n else 0
        if distinct < 4:  # nothing to split: one cluster (or none)
            self.labels_ = np.zeros(n, dtype=int)
            self.n_clusters_ = 1 if n else 0
            self.terms_ = class_tfidf_terms(list(texts), self.labels_, self.n_terms) if n else {}
            return self
        normalised = _normalise(embeddings)
        components = max(2, min(self.n_components, n - 1, normalised.shape[1]))
        reduced = PCA(n_components=components, random_state=self.seed).fit_transform(normalised)
        ks = [self.n_clusters] if self.n_clusters else [k for k in self.candidates if k < distinct / 2] or [2]
        labels_of = {}
        for k in ks:
            first = self._kmeans(reduced, k, self.seed)
            second = self._kmeans(reduced, k, self.seed + 1)
            silhouette = float(silhouette_score(reduced, first, sample_size=min(n, 2000), random_state=self.seed)) \
                if len(set(first.tolist())) > 1 else None
            labels_of[k] = first
            self.selection_.append({"k": k, "seed_agreement": float(adjusted_rand_score(first, second)),
                                    "silhouette": silhouette})
        stable = [row for row in self.selection_ if row["seed_agreement"] >= self.min_agreement]
        best = max(stable, key=lambda row: (row["silhouette"] or -1.0, -row["k"])) if stable else \
            max(self.selection_, key=lambda row: row["seed_agreement"])
        chosen = {"k": best["k"], "seed_agreement": best["seed_agreement"], "labels": labels_of[best["k"]]}
        self.labels_ = chosen["labels"]
        self.n_clusters_ = int(chosen["k"])
        self.seed_agreement_ = chosen["seed_agreement"]
        self.terms_ = class_tfidf_terms(list(texts), self.labels_, self.n_terms)
        rng = np.random.default_rng(self.seed)
        size = int(round(self.resample_share * n))
        if self.n_resamples and size > 2 * self.n_clusters_:
            for _ in range(self.n_resamples):
                subset = np.sort(rng.choice(n, size=size, replace=False))
                refit = self._kmeans(reduced[subset], self.n_clusters_, int(rng.integers(1 << 31)))
                self.stability_scores_.append(float(adjusted_rand_score(self.labels_[subset], refit)))
            self.stability_ = float(np.mean(self.stability_scores_))
        if self.project and n >= 5:
            from sklearn.manifold import TSNE

            perplexity = float(min(30.0, (n - 1) / 3.0))
            self.coordinates_ = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=self.seed,
                                     max_iter=500).fit_transform(reduced)
        return self

    def label_of(self, cluster: int, n_words: int = 4) -> str:
        terms = self.terms_.get(cluster, [])
        # the label: the top terms, skipping a unigram already inside a chosen bigram
        chosen: list[str] = []
        for term in terms:
            if any(term in c.split() or c in term.split() for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == n_words:
                break
        return " / ".join(chosen) if chosen else "(no distinctive words)"


CLUSTER_SCHEMA = {"cluster_id": pl.Int64, "label": pl.Utf8, "size": pl.Int64,
                  "n_profiles": pl.Int64, "n_rated_cvs": pl.Int64, "n_other_texts": pl.Int64,
                  "n_rated_experts": pl.Int64, "rated_expert_share": pl.Float64, "top_terms": pl.List(pl.Utf8)}


def cluster_tables(model: ProfileClustering, texts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(clusters, members, company mix) from a fitted model and the texts it was fitted on.

    ``texts``: ``text_id``, ``source`` (``profile`` / ``rated_cv`` / ``unlabeled``), ``company_id`` (profiles),
    ``is_ml_expert`` (rated CVs). ``rated_expert_share`` is the share of the cluster's rated CVs rated expert
    (null without rated CVs).
    """
    members = texts.select("text_id", "source", "company_id", "is_ml_expert").with_columns(
        cluster_id=pl.Series(model.labels_.astype(np.int64)),
        x=pl.Series(model.coordinates_[:, 0] if len(model.labels_) else [], dtype=pl.Float64),
        y=pl.Series(model.coordinates_[:, 1] if len(model.labels_) else [], dtype=pl.Float64),
    ).with_columns(pl.col("x", "y").fill_nan(None))
    stats = members.group_by("cluster_id").agg(
        size=pl.len(),
        n_profiles=(pl.col("source") == "profile").sum(),
        n_rated_cvs=(pl.col("source") == "rated_cv").sum(),
        n_other_texts=(pl.col("source") == "unlabeled").sum(),
        n_rated_experts=((pl.col("source") == "rated_cv") & (pl.col("is_ml_expert") == 1)).sum(),
    ).sort("cluster_id")
    clusters = stats.with_columns(
        label=pl.col("cluster_id").map_elements(model.label_of, return_dtype=pl.Utf8),
        rated_expert_share=pl.when(pl.col("n_rated_cvs") > 0).then(pl.col("n_rated_experts") / pl.col("n_rated_cvs")),
        top_terms=pl.col("cluster_id").map_elements(lambda c: model.terms_.get(c, []), return_dtype=pl.List(pl.Utf8)),
    ).select(list(CLUSTER_SCHEMA)).cast(CLUSTER_SCHEMA)
    labels = dict(zip(clusters["cluster_id"].to_list(), clusters["label"].to_list()))
    members = members.with_columns(label=pl.col("cluster_id").replace_strict(labels, default=None, return_dtype=pl.Utf8))
    profiles = members.filter(pl.col("source") == "profile")
    mix = profiles.group_by("company_id", "cluster_id").agg(n_profiles=pl.len()).with_columns(
        share=pl.col("n_profiles") / pl.col("n_profiles").sum().over("company_id"),
    ).join(clusters.select("cluster_id", "label"), on="cluster_id", how="left").sort("company_id", "cluster_id")
    mix = mix.cast({"n_profiles": pl.Int64})
    return clusters, members, mix
