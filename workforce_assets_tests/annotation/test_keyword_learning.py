"""Keyword learning: literal phrases, KeyBERT on a small set, thresholds, honest k-fold figures."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import binomtest

from workforce_assets.annotation.keyword_learning import (
    KeywordLearningConfig,
    PhraseAnalyzer,
    cross_validate_keywords,
    extract_keybert_candidates,
    filter_accuracy,
    learn_keywords,
    reference_agreement,
    text_groups,
)
from workforce_assets.annotation.keywords import FILTER_NAMES, KeywordSet, keyword_hits


def test_phrases_are_literal_and_do_not_span_punctuation():
    analyzer = PhraseAnalyzer((1, 3), frozenset({"at", "the", "of"}))
    phrases = analyzer("Staff Research Scientist at DeepMind; ML-based ranking, the 2019 master of science")
    assert "staff research scientist" in phrases
    assert "ml based ranking" in phrases  # the hyphen is a word separator, as in the filters
    assert "scientist at deepmind" in phrases  # a stop word inside a phrase is fine...
    assert not any(p.startswith(("at ", "the ", "of ")) or p.endswith((" at", " the", " of")) for p in phrases)
    assert "deepmind ml" not in " | ".join(phrases)  # ...but ';' ends a phrase
    assert "2019" not in phrases and "master of science" in phrases


SMALL_CVS = [
    "Research scientist training transformer language models from scratch in PyTorch; custom attention kernels.",
    "Built diffusion models from scratch and designed custom loss functions for image generation research.",
    "Reinforcement learning researcher: policy gradient algorithms, custom environments, JAX training loops.",
    "Sales director for cloud software; customer relationships, quarterly targets and partner management.",
    "Marketing manager running brand campaigns, social media calendars and agency relationships.",
    "Data analyst building dashboards in Tableau and running A/B tests for the growth team.",
    "MLOps engineer maintaining Kubernetes clusters and model deployment pipelines.",
    "Payroll specialist handling HR records, benefits administration and compliance reporting.",
]


@pytest.fixture(scope="module")
def keybert_model():
    from workforce_assets.annotation.embeddings import LocalSentenceTransformerBackend

    return LocalSentenceTransformerBackend().keybert_model()


def test_keybert_candidates_on_a_small_set(keybert_model):
    items = pl.DataFrame({"item_id": [f"cv{i}" for i in range(len(SMALL_CVS))] + ["empty"],
                          "text": SMALL_CVS + [""]})
    config = KeywordLearningConfig(top_n=5, ngram_range=(1, 3), diversity=0.6)
    candidates = extract_keybert_candidates(items, keybert_model, config, candidate_min_df=1)
    assert candidates.columns == ["item_id", "phrase", "keybert_score", "rank"]
    per_item = candidates.group_by("item_id").len()
    assert per_item.height == len(SMALL_CVS)  # the empty CV gets none, every other CV gets some
    assert (per_item["len"] == 5).all()
    assert candidates.filter(pl.col("item_id") == "cv0")["rank"].to_list() == [1, 2, 3, 4, 5]
    assert candidates["phrase"].str.split(" ").list.len().max() <= 3
    # every phrase is literally in its own CV, by the filters' matcher
    texts = dict(zip(items["item_id"], items["text"]))
    for item_id, phrase in candidates.select("item_id", "phrase").iter_rows():
        hit = keyword_hits(pl.DataFrame({"item_id": ["x"], "text": [texts[item_id]]}),
                           KeywordSet("one", (phrase,), (), ()))["has_ml"][0]
        assert hit, (item_id, phrase)
    # the pastry-free expert CVs get ML-flavoured phrases first
    top = candidates.filter((pl.col("item_id") == "cv1") & (pl.col("rank") == 1))["phrase"][0]
    assert any(w in top for w in ("diffusion", "generation", "image", "models", "loss"))


def _synthetic(n: int, seed: int, signal: bool, vocab: int = 60) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CVs that all mention ML; with ``signal`` experts carry 'attention kernels', others 'sales quota'."""
    rng = np.random.default_rng(seed)
    filler = [f"w{k}x" for k in range(vocab)]
    labels = rng.integers(0, 2, n)
    texts = []
    for label in labels:
        words = list(rng.choice(filler, 8))
        if signal:
            if label == 1 and rng.random() < 0.8:
                words.append("attention kernels")
            if label == 0 and rng.random() < 0.6:
                words.append("sales quota")
        texts.append("ML work: " + " ".join(words) + ".")
    rated = pl.DataFrame({"item_id": [f"s{i}" for i in range(n)], "text": texts,
                          "is_ml_expert": labels.astype(np.int64)})
    analyzer = PhraseAnalyzer((1, 2), frozenset())
    # stand-in for KeyBERT: every phrase of the CV is a candidate (the learning step is what is tested)
    candidates = pl.DataFrame(
        [(i, p, 0.5, 1) for i, t in zip(rated["item_id"], rated["text"]) for p in set(analyzer(t))],
        schema={"item_id": pl.Utf8, "phrase": pl.Utf8, "keybert_score": pl.Float64, "rank": pl.Int32},
        orient="row")
    return rated, candidates


CONFIG = KeywordLearningConfig(ngram_range=(1, 2), stop_words=None, min_doc_freq=5, min_keybert_docs=2,
                               broad_yes_min_specificity=0.75, strict_no_min_specificity=0.9)


def test_learning_finds_planted_terms_and_respects_thresholds():
    rated, candidates = _synthetic(240, seed=1, signal=True)
    learned = learn_keywords(rated, candidates, CONFIG)
    assert "attention kernels" in learned.keyword_set.broad_yes
    assert "sales quota" in learned.keyword_set.strict_no
    assert learned.keyword_set.ml_terms == CONFIG.ml_terms
    chosen = learned.scores.filter(pl.col("group").is_not_null())
    assert (chosen.filter(pl.col("group") == "broad_yes")["specificity_pos"] >= 0.75).all()
    assert (chosen.filter(pl.col("group") == "strict_no")["specificity_neg"] >= 0.9).all()
    assert (chosen.filter(pl.col("group") == "broad_yes")["df_pos"] >= 5).all()
    row = learned.scores.filter(pl.col("phrase") == "attention kernels").row(0, named=True)
    expected_df = rated.filter(pl.col("text").str.contains("attention kernels") & (pl.col("is_ml_expert") == 1)).height
    assert row["df_pos"] == expected_df and row["tfidf_discriminative"] > 0
    strict = KeywordLearningConfig(**{**CONFIG.__dict__, "min_doc_freq": 10_000})
    assert learn_keywords(rated, candidates, strict).keyword_set.broad_yes == ()
    assert learned.metadata()["keyword_set"]["broad_yes"] == list(learned.keyword_set.broad_yes)


def test_cross_validation_is_honest_about_noise():
    """Labels unrelated to the text: the in-sample filter looks informative, the held-out one does not."""
    rated, candidates = _synthetic(300, seed=2, signal=False, vocab=300)
    config = KeywordLearningConfig(ngram_range=(1, 1), stop_words=None, min_doc_freq=4, min_keybert_docs=2,
                                   broad_yes_min_specificity=0.7, strict_no_min_specificity=0.9)
    result = cross_validate_keywords(rated, candidates, config, n_folds=5, seed=0)
    row = result.summary.filter(pl.col("filter") == "filter_broad_yes").row(0, named=True)
    youden_in = row["in_sample_sensitivity"] + row["in_sample_specificity"] - 1
    youden_out = row["held_out_sensitivity"] + row["held_out_specificity"] - 1
    assert youden_in > 0.25  # chance terms fitted to these very labels
    assert abs(youden_out) < 0.2 and youden_in - youden_out > 0.2
    assert result.held_out.filter(pl.col("annotator") == "filter_broad_yes")["item_id"].sort().to_list() == sorted(
        rated["item_id"].to_list())  # every CV predicted exactly once, by a set that never saw it


def test_cross_validation_recovers_real_signal():
    rated, candidates = _synthetic(300, seed=3, signal=True)
    result = cross_validate_keywords(rated, candidates, CONFIG, n_folds=5, seed=0)
    summary = {r["filter"]: r for r in result.summary.iter_rows(named=True)}
    assert summary["filter_broad_yes"]["held_out_sensitivity"] > 0.65
    assert summary["filter_strict_no"]["held_out_specificity"] > 0.45
    assert set(result.folds["fold"].unique()) == set(range(5))
    stable = result.term_stability.filter(pl.col("phrase") == "attention kernels")
    assert stable["n_folds"].to_list() == [5]


def test_duplicate_texts_share_a_group():
    groups = text_groups(pl.Series(["a", "b", "a", None, ""]))
    assert groups[0] == groups[2] and groups[0] != groups[1] and groups[3] == groups[4]


def test_filter_accuracy_counts_and_wilson_interval():
    rated = pl.DataFrame({"item_id": list("abcdefg"), "is_ml_expert": [1, 1, 1, 0, 0, 0, 0]})
    predictions = pl.DataFrame({"item_id": list("abcdefg"), "annotator": ["f"] * 7,
                                "label": pl.Series([1, 1, 0, 0, 0, 1, None], dtype=pl.Int8)})
    row = filter_accuracy(rated, predictions).row(0, named=True)
    assert (row["tp"], row["fn"], row["tn"], row["fp"], row["n_missing"]) == (2, 1, 2, 1, 1)
    assert row["sensitivity"] == pytest.approx(2 / 3) and row["specificity"] == pytest.approx(2 / 3)
    ci = binomtest(2, 3).proportion_ci(method="wilson")
    assert row["sensitivity_lo"] == pytest.approx(ci.low) and row["sensitivity_hi"] == pytest.approx(ci.high)


def test_reference_agreement_on_real_rated_cvs(shared_data):
    rated = pl.read_csv(shared_data / "annotations" / "validation_annotations.csv").rename(
        {"cv_id": "item_id", "cv_text": "text"})
    agreement = reference_agreement(rated)
    assert agreement["filter"].to_list() == list(FILTER_NAMES)
    assert agreement["agreement"].to_list() == [1.0, 1.0, 1.0]
    assert (agreement["n_items"] == 585).all()
    from workforce_assets.annotation.matrix import wide_to_long

    published = wide_to_long(rated.select("item_id", *FILTER_NAMES), "imported")
    from_long = reference_agreement(rated.select("item_id", "text"), published_long=published)
    assert from_long.equals(agreement)
    # a disagreement is counted, not hidden
    flipped = published.with_columns(
        pl.when((pl.col("item_id") == "val-0001") & (pl.col("annotator") == "filter_broad_yes"))
        .then(1 - pl.col("label")).otherwise(pl.col("label")).cast(pl.Int8).alias("label"))
    row = reference_agreement(rated.select("item_id", "text"), published_long=flipped).row(0, named=True)
    assert row["n_agree"] == 584 and row["n_only_ours"] + row["n_only_published"] == 1


def test_keybert_candidates_are_kept_by_content_and_recomputed_when_a_cv_changes(keybert_model, tmp_path,
                                                                                 monkeypatch):
    from workforce_assets.annotation import keyword_learning

    items = pl.DataFrame({"item_id": [f"cv{i}" for i in range(len(SMALL_CVS))], "text": SMALL_CVS})
    config = KeywordLearningConfig(top_n=3, ngram_range=(1, 2))
    first = extract_keybert_candidates(items, keybert_model, config, candidate_min_df=1, cache_dir=tmp_path,
                                       model_name="m")
    calls = []
    real = keyword_learning._extract_keybert_candidates
    monkeypatch.setattr(keyword_learning, "_extract_keybert_candidates",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    again = extract_keybert_candidates(items.reverse(), keybert_model, config, candidate_min_df=1,
                                       cache_dir=tmp_path, model_name="m")
    assert calls == [] and again.equals(first)  # same content (in any order): read back, KeyBERT not run
    changed = items.with_columns(pl.when(pl.col("item_id") == "cv0").then(pl.lit("Pastry chef")).otherwise("text").alias("text"))
    extract_keybert_candidates(changed, keybert_model, config, candidate_min_df=1, cache_dir=tmp_path, model_name="m")
    extract_keybert_candidates(items, keybert_model, config, candidate_min_df=1, cache_dir=tmp_path, model_name="other")
    extract_keybert_candidates(items, keybert_model, KeywordLearningConfig(top_n=4, ngram_range=(1, 2)),
                               candidate_min_df=1, cache_dir=tmp_path, model_name="m")
    assert calls == [1, 1, 1]  # a changed CV, another model, other settings: each recomputed
