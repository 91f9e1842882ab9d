"""HeadcountModel: annotator sets that never break a fit, the transport policy, extrapolation, Monte Carlo error."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.model import HeadcountModel, usable_annotators
from workforce_assets.headcount.simulation import plasmode_world

ANNOTATORS = ["llm_gemini_2_5_flash", "llm_sonnet_4", "llm_gpt_5_mini",
              "filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"]
FILTERS = ["filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"]


@pytest.fixture(scope="module")
def source(shared_data):
    frame = pl.read_csv(shared_data / "annotations" / "validation_annotations.csv").drop("cv_text")
    return frame.rename({c: canonical_annotator_name(c) for c in frame.columns if c not in ("cv_id", "is_ml_expert")})


@pytest.fixture(scope="module")
def labs(shared_data):
    folder = shared_data / "annotations"
    return (pl.read_csv(folder / "validation_annotations.csv"),
            pl.read_csv(folder / "comparator_ml_employee_annotations.csv"),
            pl.read_csv(folder / "comparator_ml_companies.csv"))


def test_annotator_without_rated_labels_is_left_out_never_nan(labs):
    """Contract-conforming input: an annotator with labels on the profiles but none on the rated CVs."""
    rated, samples, companies = labs
    samples = samples.with_columns(llm_unrated=pl.lit(1, dtype=pl.Int64))
    usable, dropped = usable_annotators(rated, samples, ANNOTATORS + ["llm_unrated"])
    assert "llm_unrated" not in usable and "no column on the rated CVs" in dropped["llm_unrated"]
    rated = rated.with_columns(llm_unrated=pl.lit(None, dtype=pl.Int64))
    model = HeadcountModel(n_bootstrap=5, predictive_replicates=0, compare_excluded=False).fit(
        rated, samples, companies, annotators=ANNOTATORS + ["llm_unrated"])
    assert model.annotators_dropped_ == {"llm_unrated": "no label on any rated CV"}
    assert any("llm_unrated" in w for w in model.warnings_)
    summary = model.sample(200, seed=0).summary
    assert summary["q50"].is_not_nan().all() and summary["q50"].is_not_null().all()


def test_real_labs_default_policy_excludes_the_filters_and_reports_both_estimates(labs):
    rated, samples, companies = labs
    model = HeadcountModel().fit(rated, samples, companies, annotators=ANNOTATORS)
    # the three filters fire below their rated-CV range; gpt-5-mini says yes to 19% of profiles where the
    # others predict 28% (docs/validation.md); gemini and sonnet agree and are kept
    assert set(FILTERS) <= set(model.excluded_annotators_) <= set(FILTERS) | {"llm_gpt_5_mini"}
    assert {"llm_gemini_2_5_flash", "llm_sonnet_4"} <= set(model.annotators_)
    assert model.comparison_ is not None
    both = model.comparison_.filter(pl.col("n_sampled") > 0)
    # the filters pull the labs down: with them the medians are lower
    assert both["q50_all_annotators"].sum() < both["q50_retained"].sum()
    assert any("fails the transport check" in w and "filter_broad_yes" in w for w in model.warnings_)
    warned = HeadcountModel(transport_policy="warn", predictive_replicates=0, max_bootstrap=500, summary_draws=1000,
                            supervised_prior_resamples=20).fit(
        rated, samples, companies, annotators=ANNOTATORS)
    assert warned.excluded_annotators_ == [] and set(warned.annotators_) == set(ANNOTATORS)
    assert warned.transport_["excluded"].sum() == 0


def test_quantiles_move_less_than_two_percent_between_seeds_on_the_real_labs(labs):
    """Issue target: q10 / q50 / q90 of every company with >= 100 sampled employees move by less than 2% of
    the median (or 2 experts) between two seeds; the table carries each quantile's Monte Carlo error."""
    rated, samples, companies = labs
    fits = [HeadcountModel(predictive_replicates=0, compare_excluded=False).fit(
        rated, samples, companies, annotators=ANNOTATORS, seed=seed).sample(1000, seed=seed).summary
        for seed in (1, 2)]
    first, second = (f.filter(pl.col("n_sampled") >= 100).sort("company_id") for f in fits)
    assert first.height >= 10
    tolerance = np.maximum(0.02 * first["q50"].to_numpy(), 2.0)
    for column in ("q10", "q50", "q90"):
        moved = np.abs(first[column].to_numpy() - second[column].to_numpy())
        assert (moved < tolerance).all(), (column, moved, tolerance)
        assert first[f"mcse_{column}"].is_not_null().all()


def test_shifted_filters_are_flagged_and_excluded_in_a_plasmode_world(source):
    """Filters whose yes turns to no on profiles 80% of the time (as the real filters do) are excluded; the
    LLMs, which behave on profiles as on rated CVs, are kept, and the estimate is exactly the one made
    without the shifted annotators (the calibration of that is measured in benchmarks/headcount_calibration.py
    --shift, docs/validation.md)."""
    world = plasmode_world(np.random.default_rng(3), source, ANNOTATORS, n_companies=200,
                           profile_shift={name: 0.8 for name in FILTERS}, zero_share=0.25,
                           prevalence_beta=(0.7, 3.0), headcount_range=(20, 20_000), sample_size_range=(10, 600))
    options = dict(predictive_replicates=0, compare_excluded=False)
    model = HeadcountModel(**options).fit(world.rated, world.samples, world.companies, annotators=ANNOTATORS, seed=0)
    assert set(model.excluded_annotators_) == set(FILTERS)
    reasons = dict(zip(model.transport_["annotator"], model.transport_["reason"]))
    assert all(reasons[name] for name in FILTERS)
    excluded = model.sample(400, seed=0).summary
    without = HeadcountModel(transport_policy="off", **options).fit(
        world.rated, world.samples, world.companies, annotators=ANNOTATORS[:3], seed=0).sample(400, seed=0).summary
    assert excluded.select("company_id", "q10", "q50", "q90").equals(without.select("company_id", "q10", "q50", "q90"))


def test_unsampled_company_far_outside_the_sampled_sizes_is_extrapolated(source):
    world = plasmode_world(np.random.default_rng(4), source, ANNOTATORS, n_companies=80, zero_share=0.25,
                           prevalence_beta=(0.7, 3.0), headcount_range=(50, 6_500), sample_size_range=(10, 50))
    extra = pl.DataFrame({"company_id": ["giant", "typical"], "headcount": [540_000, 1_000]})
    companies = pl.concat([world.companies.select("company_id", "headcount"), extra], how="diagonal_relaxed")
    model = HeadcountModel(predictive_replicates=0, compare_excluded=False, transport_policy="off").fit(
        world.rated, world.samples, companies, annotators=ANNOTATORS, seed=0)
    summary = model.sample(300, seed=0).summary
    rows = {r["company_id"]: r for r in summary.filter(pl.col("prior_only")).iter_rows(named=True)}
    assert rows["giant"]["extrapolated"] and rows["giant"]["n_similar_sampled"] < 3.0
    assert not rows["typical"]["extrapolated"] and rows["typical"]["n_similar_sampled"] >= 3.0
    assert not summary.filter(~pl.col("prior_only"))["extrapolated"].any()


def test_a_significant_difference_within_the_margin_keeps_the_annotator_with_a_warning(source):
    """Plasmode replication 9, log-uniform world: on the profile half sonnet-4 says yes to 5.3% where the others
    predict 12.9% (z = -5.4). Two random halves of the rated CVs really differ, but leaving sonnet out took
    that replication's 80% coverage to 0.49 (0.865 with it), so within the 3x margin it is kept, with the
    evidence in its reason."""
    from workforce_assets.headcount.calibration import DEFAULT_DESIGN
    from workforce_assets.headcount.patterns import build_pattern_data
    from workforce_assets.headcount.transport import annotator_transport

    world = plasmode_world(np.random.default_rng(10_009), source, ANNOTATORS, n_companies=400,
                           **{**DEFAULT_DESIGN, "prevalence_distribution": "log_uniform"})
    table = annotator_transport(build_pattern_data(world.rated, world.samples, world.companies, ANNOTATORS))
    sonnet = table.filter(pl.col("annotator") == "llm_sonnet_4").row(0, named=True)
    assert sonnet["agreement_p_value"] * 12 < 0.01  # significant after Bonferroni ...
    assert 2.0 < sonnet["predicted_positive_rate"] / sonnet["profile_positive_rate"] < 3.0
    assert not sonnet["excluded"] and "within the 3x margin" in sonnet["reason"]  # ... but kept
    assert not table["excluded"].any()


def test_auto_prior_takes_the_family_with_the_higher_held_out_likelihood_and_averaged_atoms_fit(source):
    """prior='auto' scores the zero-inflated Beta beside the spline penalties on the same folds and fits the
    winner (here the simulation's own family); em_zero_atom='both' alternates replicates between the EM fits
    without and with the atom; em_accelerate runs SQUAREM. Calibration of each: docs/validation.md, section 7."""
    world = plasmode_world(np.random.default_rng(5), source, ANNOTATORS, n_companies=150, zero_share=0.25,
                           prevalence_beta=(0.7, 3.0), headcount_range=(50, 6_500), sample_size_range=(50, 400))
    options = dict(predictive_replicates=0, compare_excluded=False, transport_policy="off", n_bootstrap=4)
    model = HeadcountModel(prior="auto", em_zero_atom="both", em_accelerate=True, **options).fit(
        world.rated, world.samples, world.companies, annotators=ANNOTATORS, seed=0)
    scores = model.penalty_scores_
    assert set(scores) == {0.03, 0.3, 3.0, 30.0, "beta"}
    chosen = model.options_.prior
    assert chosen == ("beta" if max(scores, key=scores.get) == "beta" else "log_spline")
    estimate = model.sample(200, seed=0)
    assert estimate.diagnostics["prior_family"] == chosen
    assert estimate.diagnostics["prior_zero_weight_source"] == "beta"  # either family: the Beta sets the atom
    assert 0.0 <= estimate.diagnostics["prior_zero_weight_median"] <= 1.0
    assert estimate.summary["method"].unique().to_list() == [f"saturated/semi_supervised/{chosen}"]
    assert estimate.summary.filter(pl.col("n_sampled") > 0)["q50"].sum() > 0
    with pytest.raises(ValueError):
        HeadcountModel(prior="spline")


def test_rated_cvs_resampled_twice_double_the_annotator_model_spread(source):
    """rated_resample_rounds=2 (the default): each replicate resamples the rated CVs twice, so the spread of
    the fitted pattern distributions adds one more sample's error to the rated CVs' own - the size of the
    differences between rated CVs and profiles that the transport check cannot see. Measured against one
    round on the same world: the expert pattern distribution's variance over replicates grows (about 2x in
    expectation; the samples pin the non-expert distribution, which moves less)."""
    world = plasmode_world(np.random.default_rng(6), source, ANNOTATORS[:3], n_companies=150, zero_share=0.25,
                           prevalence_beta=(0.7, 3.0), headcount_range=(50, 6_500), sample_size_range=(10, 200))
    options = dict(predictive_replicates=0, compare_excluded=False, transport_policy="off", n_bootstrap=40)

    def expert_variance(rounds: int) -> float:
        model = HeadcountModel(rated_resample_rounds=rounds, **options).fit(
            world.rated, world.samples, world.companies, annotators=ANNOTATORS[:3], seed=0)
        expert = np.stack([np.exp(r.log_lik[:, 1]) for r in model.replicates_])
        return float(expert.var(axis=0).sum())

    one, two = expert_variance(1), expert_variance(2)
    assert 1.3 < two / one < 4.0
    assert HeadcountModel().options.rated_resample_rounds == 2
    with pytest.raises(ValueError):
        HeadcountModel(rated_resample_rounds=0)
