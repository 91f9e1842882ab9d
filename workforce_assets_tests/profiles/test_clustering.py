"""Profile clustering: clusters recovered on separable embeddings, c-TF-IDF labels, stability, degenerate input."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workforce_assets.profiles.clustering import ProfileClustering, class_tfidf_terms, cluster_tables
from sklearn.metrics import adjusted_rand_score

TOPICS = {0: "reinforcement learning research policy gradient", 1: "supply chain logistics warehouse operations",
          2: "registered nurse clinical patient care"}


def _world(n_per: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 32)) * 4
    truth = np.repeat(np.arange(3), n_per)
    embeddings = centres[truth] + rng.normal(size=(truth.size, 32))
    texts = [f"Experiences: Org{i} ({TOPICS[t].split()[0]}): {TOPICS[t]} || Summary: hello" for i, t in enumerate(truth)]
    frame = pl.DataFrame({"text_id": [f"t{i}" for i in range(truth.size)],
                          "source": ["profile" if i % 3 else "rated_cv" for i in range(truth.size)],
                          "company_id": [f"c{i % 4}" if i % 3 else None for i in range(truth.size)],
                          "is_ml_expert": [None if i % 3 else int(t == 0) for i, t in enumerate(truth)]},
                         schema={"text_id": pl.Utf8, "source": pl.Utf8, "company_id": pl.Utf8, "is_ml_expert": pl.Int64})
    return embeddings, texts, truth, frame


def test_separated_clusters_are_found_stably_and_labelled_by_their_words():
    embeddings, texts, truth, frame = _world()
    model = ProfileClustering(seed=0).fit(embeddings, texts)
    assert model.n_clusters_ == 3
    assert adjusted_rand_score(truth, model.labels_) == pytest.approx(1.0)
    assert model.seed_agreement_ == pytest.approx(1.0) and model.stability_ == pytest.approx(1.0)
    clusters, members, mix = cluster_tables(model, frame)
    labels = {model.labels_[truth == t][0]: t for t in range(3)}
    for row in clusters.iter_rows(named=True):
        words = TOPICS[labels[row["cluster_id"]]].split()
        assert any(w in row["label"] for w in words), row["label"]
        assert "experiences" not in row["label"] and "summary" not in row["label"]
    assert clusters["size"].sum() == frame.height
    rl = clusters.filter(pl.col("cluster_id") == int(model.labels_[0])).row(0, named=True)
    assert rl["rated_expert_share"] == pytest.approx(1.0)
    shares = mix.group_by("company_id").agg(pl.col("share").sum())["share"]
    assert np.allclose(shares.to_numpy(), 1.0)
    assert members["x"].null_count() == 0


def test_unstable_candidates_are_not_chosen():
    """Structureless embeddings: no k reaches the agreement threshold, the most stable candidate is taken and
    its (low) agreement is reported, not hidden."""
    rng = np.random.default_rng(1)
    embeddings = rng.normal(size=(150, 16))
    model = ProfileClustering(seed=0, min_agreement=0.99, project=False).fit(embeddings, ["x"] * 150)
    best = max(model.selection_, key=lambda row: row["seed_agreement"])
    assert model.n_clusters_ == best["k"] and model.seed_agreement_ == best["seed_agreement"] < 0.99


@pytest.mark.parametrize("n", [0, 1, 3])
def test_too_few_texts_give_at_most_one_cluster(n):
    embeddings = np.random.default_rng(0).normal(size=(n, 8))
    texts = ["Experiences: A (Engineer): software"] * n
    model = ProfileClustering().fit(embeddings, texts)
    assert model.n_clusters_ == (1 if n else 0) and set(model.labels_.tolist()) <= {0}
    frame = pl.DataFrame({"text_id": [str(i) for i in range(n)], "source": ["profile"] * n, "company_id": ["c"] * n,
                          "is_ml_expert": [None] * n}, schema={"text_id": pl.Utf8, "source": pl.Utf8,
                                                               "company_id": pl.Utf8, "is_ml_expert": pl.Int64})
    clusters, members, mix = cluster_tables(model, frame)
    assert clusters["size"].sum() == n and members.height == n


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="do not match"):
        ProfileClustering().fit(np.zeros((3, 4)), ["a", "b"])


def test_class_tfidf_prefers_words_distinctive_of_a_cluster():
    texts = ["data pipelines spark", "data pipelines kafka", "data nurse patient", "data nurse clinic"]
    terms = class_tfidf_terms(texts, np.array([0, 0, 1, 1]), n_terms=3)
    assert "pipelines" in terms[0] and "nurse" in terms[1]
    assert "data" not in terms[0][:1] and "data" not in terms[1][:1]


def test_non_english_and_very_long_texts_get_labels():
    """Bad input the issue names: non-English words are words (Unicode tokens), a 200,000-character text is
    labelled like any other (the embedding model reads its first 256 tokens; c-TF-IDF reads it all)."""
    texts = ["Erfahrungen: Datenwissenschaftlerin bei Müller GmbH, maschinelles Lernen"] * 3 + \
            ["Expériences : ingénieure logistique, chaîne d'approvisionnement"] * 3 + \
            [("supply chain logistics " * 10_000).strip()]
    terms = class_tfidf_terms(texts, np.array([0, 0, 0, 1, 1, 1, 2]), n_terms=5)
    assert any("müller" in t or "lernen" in t for t in terms[0])
    assert any("ingénieure" in t or "chaîne" in t for t in terms[1])
    assert terms[2][:1] and "logistics" in " ".join(terms[2])


def test_employee_profiles_beyond_the_cap_are_sampled_and_other_texts_kept():
    from workforce_assets.pipeline.profile_assets import limit_profiles

    texts = pl.DataFrame({"text_id": [f"p{i}" for i in range(100)] + ["cv1", "u1"],
                          "source": ["profile"] * 100 + ["rated_cv", "unlabeled"]})
    kept, n = limit_profiles(texts, 30, seed=0)
    assert n == 100 and kept.filter(pl.col("source") == "profile").height == 30
    assert {"cv1", "u1"} <= set(kept["text_id"])
    again, _ = limit_profiles(texts, 30, seed=0)
    assert again.equals(kept)  # seeded
    assert limit_profiles(texts, 500, seed=0)[0].equals(texts)
    with pytest.raises(ValueError):
        limit_profiles(texts, 0, seed=0)
