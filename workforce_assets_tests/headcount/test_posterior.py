"""Company posteriors: simulation with known truth, and regressions for the original's defects."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workforce_assets.headcount.posterior import estimate_company_headcounts, totals
from workforce_assets.headcount.simulation import independent_world

SENS = [0.7, 0.6, 0.75, 0.55]
SPEC = [0.85, 0.95, 0.88, 0.9]


@pytest.fixture(scope="module")
def worlds():
    return [
        independent_world(np.random.default_rng(seed), SENS, SPEC, n_rated=400, n_companies=60,
                          headcount_range=(20, 20_000), max_sampled=300, missing_rate=0.05)
        for seed in range(3)
    ]


@pytest.mark.parametrize("fit", ["supervised", "semi_supervised"])
def test_simulation_with_known_truth_is_accurate_and_covers(worlds, fit):
    coverage, inside_range = [], []
    for seed, world in enumerate(worlds):
        estimate = estimate_company_headcounts(world.rated, world.samples, world.companies, world.annotators,
                                               n_draws=300, seed=seed, method="independent", fit=fit,
                                               n_bootstrap=15, max_bootstrap=1000, supervised_prior_resamples=30,
                                               predictive_replicates=0)
        table = estimate.summary.join(world.truth.select("company_id", "true_count"), on="company_id")
        truth = table.get_column("true_count").to_numpy()
        coverage.append(np.mean((table["q10"].to_numpy() <= truth) & (truth <= table["q90"].to_numpy())))
        mean = table.get_column("mean").to_numpy()
        # the posterior mean beats scaling up the majority vote of the sampled employees
        votes = world.samples.with_columns(
            (pl.mean_horizontal(world.annotators) > 0.5).cast(pl.Float64).alias("vote")
        ).group_by("company_id").agg(pl.col("vote").mean())
        majority = table.join(votes, on="company_id", how="left").select(
            pl.col("vote").fill_null(0.0) * pl.col("headcount")).to_series().to_numpy()
        assert np.mean(np.abs(mean - truth)) < 0.8 * np.mean(np.abs(majority - truth))
        assert np.corrcoef(mean, truth)[0, 1] > 0.97
        inside_range.append(((estimate.draws >= 0) & (estimate.draws <= table["headcount"].to_numpy()[:, None])).all())
    assert all(inside_range)
    assert 0.70 <= np.mean(coverage) <= 0.95, coverage


def _two_company_world(headcount_big: int):
    world = independent_world(np.random.default_rng(7), SENS, SPEC, n_rated=400, n_companies=40,
                              headcount_range=(100, 5_000), max_sampled=200)
    # one extra company with only 2 sampled employees (both all-no) and a given headcount
    extra_samples = pl.DataFrame({
        "item_id": ["x1", "x2"], "company_id": ["big", "big"],
        **{a: pl.Series([0, 0], dtype=pl.Int8) for a in world.annotators},
    })
    samples = pl.concat([world.samples, extra_samples], how="diagonal_relaxed")
    companies = pl.concat([world.companies, pl.DataFrame({"company_id": ["big"], "headcount": [headcount_big]})],
                          how="vertical_relaxed")
    return world, samples, companies


def test_sampling_uncertainty_grows_with_unsampled_employees():
    """300,000 employees, 2 sampled: the interval must reflect the 299,998 unseen (the original gave 2-65)."""
    widths = {}
    for headcount in (300, 300_000):
        world, samples, companies = _two_company_world(headcount)
        estimate = estimate_company_headcounts(world.rated, samples, companies, world.annotators, n_draws=400,
                                               method="independent", fit="supervised", n_bootstrap=10,
                                               max_bootstrap=1000, supervised_prior_resamples=30, predictive_replicates=0)
        row = estimate.summary.filter(pl.col("company_id") == "big").row(0, named=True)
        widths[headcount] = row["q95"] - row["q05"]
        assert row["n_sampled"] == 2 and row["headcount"] == headcount
    assert widths[300_000] > 500 * widths[300]
    assert widths[300_000] > 10_000


def test_company_without_samples_gets_flagged_prior_predictive(worlds):
    world = worlds[0]
    companies = pl.concat([world.companies, pl.DataFrame({"company_id": ["unsampled"], "headcount": [1_000]})],
                          how="vertical_relaxed")
    estimate = estimate_company_headcounts(world.rated, world.samples, companies, world.annotators, n_draws=300,
                                           method="independent", fit="supervised", n_bootstrap=10,
                                           max_bootstrap=1000, supervised_prior_resamples=30, predictive_replicates=0)
    row = estimate.summary.filter(pl.col("company_id") == "unsampled").row(0, named=True)
    assert row["prior_only"] and row["n_sampled"] == 0
    assert row["mean"] > 0 and row["q95"] > row["q05"]
    assert not estimate.summary.filter(pl.col("company_id") != "unsampled")["prior_only"].any()


def test_annotators_are_matched_by_name_not_position(worlds):
    world = worlds[1]
    reference = estimate_company_headcounts(world.rated, world.samples, world.companies, world.annotators,
                                            n_draws=100, method="independent", fit="supervised", n_bootstrap=5,
                                            transport_policy="off", predictive_replicates=0, max_bootstrap=500,
                                          supervised_prior_resamples=20)
    # samples with columns in reverse order and spelled differently: same annotators, same answer
    renamed = world.samples.select(
        "item_id", "company_id",
        *[pl.col(a).alias(a.replace("_", "-").upper()) for a in reversed(world.annotators)],
    )
    same = estimate_company_headcounts(world.rated, renamed, world.companies, world.annotators,
                                       n_draws=100, method="independent", fit="supervised", n_bootstrap=5,
                                            transport_policy="off", predictive_replicates=0, max_bootstrap=500,
                                          supervised_prior_resamples=20)
    assert np.array_equal(reference.draws, same.draws)
    # what the original did: the same columns relabelled by position - a different (wrong) answer
    by_position = world.samples.select(
        "item_id", "company_id",
        *[pl.col(old).alias(new) for old, new in zip(reversed(world.annotators), world.annotators)],
    )
    swapped = estimate_company_headcounts(world.rated, by_position, world.companies, world.annotators,
                                          n_draws=100, method="independent", fit="supervised", n_bootstrap=5,
                                            transport_policy="off", predictive_replicates=0, max_bootstrap=500,
                                          supervised_prior_resamples=20)
    assert not np.array_equal(reference.draws, swapped.draws)
    # an annotator missing from the samples is left out with the reason, never an error or NaN parameters
    missing = estimate_company_headcounts(world.rated, world.samples.drop(world.annotators[0]), world.companies,
                                          world.annotators, n_draws=10, method="independent", fit="supervised",
                                          n_bootstrap=5, transport_policy="off", predictive_replicates=0, max_bootstrap=500,
                                          supervised_prior_resamples=20)
    assert missing.diagnostics["annotators_dropped"] == {world.annotators[0]: "no column on the profiles"}
    assert world.annotators[0] not in missing.diagnostics["annotators"]


def test_bad_inputs_are_clear_errors(worlds):
    world = worlds[0]
    unknown = world.samples.with_columns(pl.lit("ghost").alias("company_id"))
    with pytest.raises(ValueError, match="not in companies"):
        estimate_company_headcounts(world.rated, unknown, world.companies, world.annotators, n_draws=10)
    small = world.companies.with_columns(pl.lit(1).cast(pl.Int64).alias("headcount"))
    with pytest.raises(ValueError, match="more sampled employees than headcount"):
        estimate_company_headcounts(world.rated, world.samples, small, world.annotators, n_draws=10)
    one_class = world.rated.with_columns(pl.lit(0).cast(pl.Int8).alias("is_ml_expert"))
    with pytest.raises(ValueError, match="both classes"):
        estimate_company_headcounts(one_class, world.samples, world.companies, world.annotators, n_draws=10)


def test_totals_come_from_summed_draws_not_summed_percentiles():
    rng = np.random.default_rng(0)
    draws = rng.poisson(10, size=(50, 2_000))
    ids = [f"c{i}" for i in range(50)]
    table = totals(draws, ids)
    row = table.row(0, named=True)
    summed = draws.sum(axis=0)
    assert row["mean"] == pytest.approx(summed.mean())
    assert row["q95"] == np.quantile(summed, 0.95, method="inverted_cdf")
    sum_of_q95 = np.quantile(draws, 0.95, axis=1, method="inverted_cdf").sum()
    assert row["q95"] < sum_of_q95 - 50  # summing percentiles overstates the total's upper bound
    groups = {cid: ("a" if i < 20 else "b") for i, cid in enumerate(ids)}
    grouped = totals(draws, ids, groups)
    assert grouped["group"].to_list() == ["a", "b"] and grouped["n_companies"].to_list() == [20, 30]
    assert grouped["mean"].sum() == pytest.approx(row["mean"])
    with pytest.raises(ValueError, match="without a group"):
        totals(draws, ids, {"c0": "a"})


def test_auto_fit_is_semi_supervised_only_with_many_companies(worlds):
    from workforce_assets.headcount.model import HeadcountModel
    from workforce_assets.headcount.patterns import build_pattern_data

    world = worlds[0]  # 60 companies with samples
    data = build_pattern_data(world.rated, world.samples, world.companies, world.annotators)
    many = HeadcountModel()._resolve(data, world.rated, seed=0)
    assert (many.fit, many.method) == ("semi_supervised", "saturated")
    few = HeadcountModel(min_companies_semi_supervised=61)._resolve(data, world.rated, seed=0)
    assert few.fit == "supervised" and few.method in ("probit", "loglinear", "independent")  # by 5-fold CV
