import numpy as np
import polars as pl
import pytest

from workforce_assets.labor.existence import evaluate_existence
from workforce_assets.labor.plots import write_labor_figures
from workforce_assets.labor.questions import market_size, market_sizes, peer_gaps


def test_market_size_adds_expected_unlisted_companies(existence_model, synthetic_matrix):
    sizes = market_sizes(existence_model, synthetic_matrix, chunk_companies=50)
    assert sizes.height == synthetic_matrix["archetype"].n_unique()
    counts = synthetic_matrix.group_by("archetype").agg(pl.len().alias("n"))
    joined = sizes.join(counts, on="archetype")
    assert (joined["observed_companies"] == joined["n"]).all()
    assert (sizes["lower"] >= sizes["observed_companies"]).all()
    assert (sizes["lower"] <= sizes["expected_total"]).all() and (sizes["expected_total"] <= sizes["upper"]).all()
    one = market_size(existence_model, synthetic_matrix, sizes["archetype"][0])
    row = sizes.row(0, named=True)
    assert one["observed_companies"] == row["observed_companies"]
    assert one["expected_unlisted"] == pytest.approx(row["expected_unlisted"], rel=1e-6)
    with pytest.raises(ValueError, match="not in the matrix"):
        market_size(existence_model, synthetic_matrix, "nope|mid|XX")


def test_market_size_interval_covers_bernoulli_truth(existence_model, synthetic_matrix):
    """If cells were drawn with the model's probabilities, the 90% interval should hold the count ~90% of the time."""
    one = market_sizes(existence_model, synthetic_matrix).row(0, named=True)
    from workforce_assets.labor.existence import FeatureContext
    from workforce_assets.labor.matrix import to_sparse

    labels = to_sparse(synthetic_matrix)
    col = int(np.flatnonzero(labels.archetypes == one["archetype"])[0])
    rows = np.flatnonzero(labels.observed[:, col].toarray().ravel() == 0)
    p = existence_model.score_cells(FeatureContext.from_observed(labels, labels.observed), rows, np.full(len(rows), col))
    draws = one["observed_companies"] + (np.random.default_rng(0).random((2000, len(p))) < p).sum(axis=1)
    inside = np.mean((draws >= one["lower"]) & (draws <= one["upper"]))
    assert 0.85 <= inside <= 0.99


def test_peer_gaps_are_unlisted_and_common_among_peers(existence_model, synthetic_matrix):
    company = synthetic_matrix.group_by("company_id").len().sort("len", descending=True)["company_id"][0]
    gaps = peer_gaps(synthetic_matrix, company, n_peers=20, top=5, model=existence_model)
    assert 0 < gaps.height <= 5
    listed = set(synthetic_matrix.filter(pl.col("company_id") == company)["archetype"])
    assert not set(gaps["archetype"]) & listed
    assert gaps["peer_share"].is_sorted(descending=True) and (gaps["peer_share"] > 0).all()
    assert gaps["probability"].is_between(0, 1).all()
    with pytest.raises(ValueError, match="not in the matrix"):
        peer_gaps(synthetic_matrix, "no such company")


def test_peer_gaps_of_several_companies_equal_each_company_alone(existence_model, synthetic_matrix):
    companies = synthetic_matrix.group_by("company_id").len().sort(["len", "company_id"], descending=[True, False])["company_id"][:6].to_list()
    together = peer_gaps(synthetic_matrix, companies, n_peers=20, top=5, model=existence_model)
    alone = pl.concat([peer_gaps(synthetic_matrix, c, n_peers=20, top=5, model=existence_model) for c in companies])
    assert together.height > 6 and together["company_id"].unique(maintain_order=True).to_list() == companies
    assert together.equals(alone)


def test_figures_are_written_as_html(tmp_path, synthetic_matrix):
    archetype_eval = evaluate_existence(synthetic_matrix, seed=0, methods=("popularity", "lightgbm"),
                                        n_estimators=30, negatives_per_company=30, n_rounds=1)
    salary_eval = pl.DataFrame({
        "method": ["lightgbm"] * 4, "metric": ["share_below_q10", "share_below_q50", "share_below_q90", "coverage80"],
        "value": [0.11, 0.49, 0.9, 0.79],
    })
    paths = write_labor_figures(tmp_path, archetype_eval, salary_eval)
    assert set(paths) == {"labor_recall_at_k", "labor_feature_importance", "labor_salary_calibration"}
    for path in paths.values():
        text = path.read_text()
        assert "plotly" in text and path.stat().st_size > 1000
    assert (tmp_path / "plotly.min.js").exists()
    assert write_labor_figures(tmp_path / "empty", None, None) == {}


def test_recall_at_k_labels_only_its_cutoffs_and_shows_identical_curves():
    """Issue 13: stray log-axis labels, and two identical lines drawn on top of each other."""
    from workforce_assets.labor.existence import RECALL_CUTOFFS
    from workforce_assets.labor.plots import recall_at_k_figure

    rows = [{"method": m, "metric": f"recall@{k}", "value": v}
            for m, values in (("popularity", [0.1, 0.3, 0.4, 0.5, 0.7]), ("original_gbm", [0.1, 0.3, 0.4, 0.5, 0.7]),
                              ("lightgbm", [0.2, 0.4, 0.5, 0.6, 0.8]))
            for k, v in zip(RECALL_CUTOFFS, values)]
    figure = recall_at_k_figure(pl.DataFrame(rows))
    assert list(figure.layout.xaxis.tickvals) == list(RECALL_CUTOFFS)
    names = [trace.name for trace in figure.data]
    assert names == ["popularity", "original_gbm (same as popularity)", "lightgbm"]
    assert figure.data[1].line.dash == "dash"


def test_one_scoring_pass_gives_the_rankings_and_the_market_sizes_of_two_separate_passes(existence_model, synthetic_matrix):
    from workforce_assets.labor.existence import score_full_matrix
    from workforce_assets.labor.questions import score_and_size

    top, above, sizes = score_and_size(existence_model, synthetic_matrix, top_k=5, threshold=0.3, chunk_companies=7)
    alone_top, alone_above = score_full_matrix(existence_model, synthetic_matrix, top_k=5, threshold=0.3)
    assert top.equals(alone_top) and above.equals(alone_above) and top.height > 0
    assert sizes.equals(market_sizes(existence_model, synthetic_matrix, chunk_companies=7))  # same summation order
