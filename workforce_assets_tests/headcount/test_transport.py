"""Annotator transport checks, the log-spline prior, and log-debias on its own inputs (company_counts.csv)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workforce_assets.headcount.log_debias import log_debias
from workforce_assets.headcount.patterns import build_pattern_data
from workforce_assets.headcount.prevalence import (PrevalenceGrid, choose_spline_penalty, fit_log_spline_prior,
                                                   fit_zero_inflated_beta)
from workforce_assets.headcount.transport import annotator_transport, holm_adjust, range_p_value
from workforce_assets.ingestion.arrange import write_company_counts
from workforce_assets.ingestion.inputs import load_company_counts

ANNOTATORS = ["llm_gemini_2_5_flash", "llm_sonnet_4", "llm_gpt_5_mini",
              "filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"]


def test_range_p_value_and_holm():
    assert range_p_value(0.2, 0.01, 0.1, 0.01, 0.6, 0.02) == pytest.approx(1.0)
    assert range_p_value(0.004, 0.0006, 0.09, 0.014, 0.56, 0.04) < 1e-6  # the real filter's rate, below its FPR
    adjusted = holm_adjust(np.array([0.01, 0.04, np.nan, 0.03]))
    assert adjusted[0] == pytest.approx(0.03) and np.isnan(adjusted[2])
    assert adjusted[1] == pytest.approx(0.06) and adjusted[3] == pytest.approx(0.06)


def test_real_lab_filters_fail_transport(shared_data):
    """On the 11,205 real lab profiles the keyword filters fire far below their rated-CV false-positive rates."""
    folder = shared_data / "annotations"
    data = build_pattern_data(pl.read_csv(folder / "validation_annotations.csv"),
                              pl.read_csv(folder / "comparator_ml_employee_annotations.csv"),
                              pl.read_csv(folder / "comparator_ml_companies.csv"), ANNOTATORS)
    table = annotator_transport(data)
    excluded = set(table.filter(pl.col("excluded"))["annotator"].to_list())
    assert {"filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"} <= excluded
    assert "llm_gemini_2_5_flash" not in excluded and "llm_sonnet_4" not in excluded
    broad = table.filter(pl.col("annotator") == "filter_broad_yes").row(0, named=True)
    assert broad["profile_positive_rate"] < 0.01 < broad["rated_false_positive_rate"]
    assert "outside the range" in broad["reason"]


def _grid_log_lik(grid, successes, sizes):
    with np.errstate(divide="ignore", invalid="ignore"):
        values = (successes[:, None] * np.log(grid.values)[None, :]
                  + (sizes - successes)[:, None] * np.log1p(-grid.values)[None, :])
    values = np.nan_to_num(values, nan=0.0, neginf=-1e300)
    values[:, 0] = np.where(successes == 0, 0.0, -1e300)
    return values


def test_log_spline_prior_recovers_a_two_point_mixture():
    rng = np.random.default_rng(0)
    n = 2000
    pi = np.where(rng.random(n) < 0.25, 0.0, np.where(rng.random(n) < 0.5, 0.01, 0.2))
    sizes = rng.integers(50, 500, n)
    grid = PrevalenceGrid.default(linear_step=0.02, geometric_cells=15)
    log_lik = _grid_log_lik(grid, rng.binomial(sizes, pi), sizes)
    penalty, scores = choose_spline_penalty(log_lik, grid)
    assert penalty == max(scores, key=scores.get)
    fine = PrevalenceGrid.default()
    masses = fit_log_spline_prior(log_lik, grid, penalty=penalty).cell_masses(fine)
    near_one_percent = masses[(fine.values > 0.004) & (fine.values < 0.025)].sum()
    near_twenty = masses[(fine.values > 0.15) & (fine.values < 0.25)].sum()
    assert near_one_percent > 0.28 and near_twenty > 0.28  # truth: 0.375 each
    assert masses.sum() == pytest.approx(1.0)


def test_held_out_likelihood_chooses_the_beta_family_where_it_fits_and_the_spline_where_it_does_not():
    """prior='auto': the zero-inflated Beta competes with the spline penalties on the same folds."""
    rng = np.random.default_rng(1)
    grid = PrevalenceGrid.default(linear_step=0.02, geometric_cells=15)
    n = 1500
    sizes = rng.integers(20, 200, n)
    beta_world = np.where(rng.random(n) < 0.25, 0.0, rng.beta(0.7, 3.0, n))
    choice, scores = choose_spline_penalty(_grid_log_lik(grid, rng.binomial(sizes, beta_world), sizes), grid,
                                           include_beta=True)
    assert choice == "beta" and set(scores) == {0.03, 0.3, 3.0, 30.0, "beta"}
    two_point = np.where(rng.random(n) < 0.25, 0.0, np.where(rng.random(n) < 0.5, 0.01, 0.3))
    choice, scores = choose_spline_penalty(_grid_log_lik(grid, rng.binomial(sizes, two_point), sizes), grid,
                                           include_beta=True)
    assert choice != "beta" and scores[choice] > scores["beta"]
    assert choose_spline_penalty(_grid_log_lik(grid, rng.binomial(sizes, two_point), sizes), grid)[0] != "beta"


def test_log_debias_on_company_counts_equals_the_published_estimator(shared_data, tmp_path):
    aggregates = shared_data / "annotations" / "company_aggregates.csv"
    loaded = load_company_counts(write_company_counts(aggregates, tmp_path / "company_counts.csv"))
    assert loaded.stats["n_loaded"] == 403 and loaded.stats["n_quarantined"] == 0
    counts = loaded.rows
    ours = log_debias(counts, [c for c in counts.columns if c.startswith("filter_")],
                      [c for c in counts.columns if c.endswith("_accepted")])
    original = pl.read_csv(aggregates)
    published = log_debias(original, ["filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"],
                           ["claude_total_accepted", "gpt5_total_accepted", "gemini_total_accepted"],
                           id_column="linkedin_id")
    assert ours.height == published.height == 403
    for column in ("estimate", "lower80", "upper80", "n_methods"):
        assert ours[column].to_list() == pytest.approx(published[column].to_list(), nan_ok=True), column


def test_company_counts_quarantine_bad_rows(tmp_path):
    path = tmp_path / "company_counts.csv"
    path.write_text("company_id,headcount,filter_a,llm_x_accepted\na,100,5,\nb,100,-1,2\n,50,1,1\nc,x,1,1\nd,10,abc,1\n")
    result = load_company_counts(path)
    assert result.rows["company_id"].to_list() == ["a"]
    assert result.rows["llm_x_accepted"].to_list() == [None]  # empty is missing, never zero
    reasons = set(result.quarantine["reason"].to_list())
    assert {"filter_a is negative", "missing company_id", "filter_a is not a number"} <= reasons
    assert result.stats["n_read"] == result.stats["n_loaded"] + result.stats["n_quarantined"] == 5


def test_the_zero_atom_taken_from_the_beta_stays_where_the_free_spline_collapses_it():
    """An annotator with a 3% false-positive rate cannot tell a company without experts from one with 0.05%:
    the marginal likelihood is flat between the zero atom and spline mass just above zero. Fitted with the
    spline, the atom (truth 0.25) collapsed in two of six worlds; taken from the zero-inflated Beta
    (``zero_weight``, the model's default prior_zero_weight='beta') it stays near the truth in all six. Under
    ``linear_below`` the log-density is a line in logit(prevalence) that does not rise towards zero."""
    from scipy import special, stats
    from scipy.interpolate import BSpline

    grid = PrevalenceGrid.default(linear_step=0.02, geometric_cells=15)
    free, from_beta = [], []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        prevalence = np.where(rng.random(400) < 0.25, 0.0, rng.beta(0.7, 3.0, 400))
        sizes = rng.integers(10, 300, 400)
        log_lik = stats.binom.logpmf(rng.binomial(sizes, 0.03 + 0.77 * prevalence)[:, None], sizes[:, None],
                                     (0.03 + 0.77 * grid.values)[None, :])
        free.append(fit_log_spline_prior(log_lik, grid, penalty=3.0).zero_weight)
        atom = fit_zero_inflated_beta(log_lik, grid).zero_weight
        prior = fit_log_spline_prior(log_lik, grid, penalty=3.0, linear_below=0.001, zero_weight=atom)
        assert prior.zero_weight == pytest.approx(atom)
        from_beta.append(prior.zero_weight)
        spline = BSpline(np.asarray(prior.knots), np.asarray(prior.coefficients), 3)
        below = np.linspace(special.logit(1e-5), special.logit(0.0005), 50)
        fit = np.polyfit(below, spline(below), 1)
        assert np.abs(spline(below) - np.polyval(fit, below)).max() < 1e-8 and fit[0] >= -1e-9
    assert min(free) < 0.01  # the failure this guards against
    assert min(from_beta) > 0.1 and max(from_beta) < 0.4
