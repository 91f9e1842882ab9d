import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from sklearn.metrics import roc_auc_score

from workforce_assets.labor.existence import (
    FeatureContext,
    _rank_metrics,
    evaluate_existence,
    fit_existence_model,
    mask_observed,
    score_full_matrix,
)
from workforce_assets.labor.matrix import company_size, to_sparse

FAST = {"n_estimators": 40, "num_threads": 2, "negatives_per_company": 40, "n_rounds": 1}


def test_mask_hides_a_fifth_of_each_eligible_company(synthetic_matrix):
    observed = to_sparse(synthetic_matrix).observed
    kept, hidden = mask_observed(observed, 0.2, np.random.default_rng(0))
    assert (kept + hidden - observed).nnz == 0 and kept.multiply(hidden).nnz == 0
    size, n_kept, n_hidden = company_size(observed), company_size(kept), company_size(hidden)
    assert (n_hidden[size < 2] == 0).all()
    eligible = size >= 2
    assert (n_hidden[eligible] >= 1).all() and (n_kept[eligible] >= 1).all()
    np.testing.assert_array_equal(n_hidden[eligible], np.clip(np.rint(0.2 * size[eligible]), 1, size[eligible] - 1))


def test_no_hidden_cell_reaches_any_feature(synthetic_matrix, monkeypatch):
    """Every feature context built during evaluation must exclude the evaluation's hidden cells."""
    labels = to_sparse(synthetic_matrix)
    _, hidden = mask_observed(labels.observed, 0.2, np.random.default_rng(11))  # same draw as seed=11
    seen = []
    original = FeatureContext.from_observed.__func__

    def spy(cls, labels_, observed):
        seen.append(observed.copy())
        return original(cls, labels_, observed)

    monkeypatch.setattr(FeatureContext, "from_observed", classmethod(spy))
    evaluate_existence(synthetic_matrix, seed=11, methods=("popularity", "lightgbm"), **FAST)
    assert len(seen) >= 2  # the evaluation context and the inner training context
    for observed in seen:
        assert observed.multiply(hidden).nnz == 0


def test_popularity_feature_does_not_count_hidden_cells():
    # archetype 'x' exists only at company c0, which has it hidden -> its popularity in features must be 0
    rows = [("c0", "x|mid|CA"), ("c0", "y|mid|CA")] + [(f"c{i}", "y|mid|CA") for i in range(1, 6)]
    matrix = pl.DataFrame(rows, schema=["company_id", "archetype"], orient="row")
    labels = to_sparse(matrix)
    hidden = sp.csr_matrix(([1.0], ([0], [0])), shape=labels.shape)
    context = FeatureContext.from_observed(labels, labels.observed - hidden)
    features = context.cell_features(np.array([0]), np.array([0]))
    assert features[0, 0] == 0.0  # log1p(popularity of x) without the hidden cell


def test_block_scores_equal_cell_scores(synthetic_matrix):
    labels = to_sparse(synthetic_matrix)
    model = fit_existence_model(synthetic_matrix, seed=0, **FAST)
    context = FeatureContext.from_observed(labels, labels.observed)
    rows = np.arange(0, labels.shape[0], 37)
    block = context.link_block(rows)
    r, c = np.meshgrid(np.arange(len(rows)), np.arange(labels.shape[1]), indexing="ij")
    features = context.cell_features(rows[r.ravel()], c.ravel())
    np.testing.assert_allclose(block.knn.ravel(), features[:, 4], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(block.role_share.ravel(), features[:, 5], rtol=1e-6)
    unobserved = ~block.observed.ravel()
    np.testing.assert_allclose(
        model.score_block(context, block).ravel()[unobserved],
        model.score_cells(context, rows[r.ravel()], c.ravel())[unobserved], rtol=1e-6,
    )


def test_rank_metrics_on_a_hand_example():
    scores = np.array([[0.9, 0.8, 0.7, 0.1, 0.5, 0.2]])
    observed = np.array([[True, False, False, False, False, False]])
    positive = np.array([[False, False, True, True, False, False]])
    out = _rank_metrics(scores, observed, positive, tiebreak=np.arange(6.0))
    # candidates ranked: 0.8 (neg), 0.7 (pos), 0.5, 0.2, 0.1 (pos)
    assert out["recall@1"][0] == 0.0 and out["recall@5"][0] == 1.0
    expected_ndcg = (1 / np.log2(3) + 1 / np.log2(6)) / (1 + 1 / np.log2(3))
    assert out["ndcg@10"][0] == pytest.approx(expected_ndcg)
    candidates = ~observed[0]
    assert out["auc"][0] == pytest.approx(roc_auc_score(positive[0][candidates], scores[0][candidates]))


def test_lightgbm_beats_every_baseline_on_a_structured_world(synthetic_matrix):
    frame = evaluate_existence(synthetic_matrix, seed=0, **FAST)
    value = {(m, k): v for m, k, v in frame.select("method", "metric", "value").iter_rows()}
    assert set(frame["method"]) == {"popularity", "item_knn", "affinity_heuristic", "original_gbm", "lightgbm"}
    assert value[("lightgbm", "recall@10")] >= 2 * value[("popularity", "recall@10")]
    for baseline in ("popularity", "item_knn", "affinity_heuristic", "original_gbm"):
        assert value[("lightgbm", "recall@10")] > value[(baseline, "recall@10")], baseline
        assert value[("lightgbm", "auc")] > value[(baseline, "auc")], baseline
    assert frame["n_eval_companies"][0] > 100


def test_chunked_scoring_equals_unchunked(synthetic_matrix):
    model = fit_existence_model(synthetic_matrix, seed=0, **FAST)
    assert model.kind == "lightgbm"
    top_all, above_all = score_full_matrix(model, synthetic_matrix, top_k=5, threshold=0.2, chunk_companies=10_000)
    top_chunked, above_chunked = score_full_matrix(model, synthetic_matrix, top_k=5, threshold=0.2, chunk_companies=13)
    assert top_all.height == 5 * synthetic_matrix["company_id"].n_unique()
    assert top_chunked.equals(top_all) and above_chunked.equals(above_all)
    # never recommends what is already observed
    observed = synthetic_matrix.select("company_id", "archetype")
    assert top_all.join(observed, on=["company_id", "archetype"], how="inner").is_empty()
    assert (above_all["probability"] >= 0.2).all()


def test_tiny_inputs_degrade_with_a_documented_row():
    matrix = pl.DataFrame({"company_id": ["a", "a", "b"], "archetype": ["x|mid|CA", "y|mid|CA", "x|mid|CA"]})
    frame = evaluate_existence(matrix, seed=0, **FAST)
    assert frame["method"].to_list() == ["none"] and "need" in frame["note"][0]
    model = fit_existence_model(matrix, seed=0, **FAST)
    assert model.kind == "popularity" and model.note
    top, _ = score_full_matrix(model, matrix, top_k=3)
    assert top.filter(pl.col("company_id") == "b")["archetype"].to_list() == ["y|mid|CA"]
    empty = evaluate_existence(matrix.head(0), seed=0)
    assert empty["method"].to_list() == ["none"]
