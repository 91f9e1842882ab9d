"""Annotation planning: pre-posterior widths, the budget plan against random allocation (realised by
sampling from a plasmode world and refitting), and the rating plan."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.model import HeadcountModel
from workforce_assets.headcount.simulation import plasmode_world
from workforce_assets.planning import rating, sampling
from workforce_assets.planning.validation import plan_versus_random, reduction_ratio

LLMS = ["llm_gemini_2_5_flash", "llm_sonnet_4", "llm_gpt_5_mini"]
OPTIONS = {"predictive_replicates": 0, "compare_excluded": False, "transport_policy": "off"}


@pytest.fixture(scope="module")
def world(shared_data):
    frame = pl.read_csv(shared_data / "annotations" / "validation_annotations.csv").drop("cv_text")
    source = frame.rename({c: canonical_annotator_name(c) for c in frame.columns if c not in ("cv_id", "is_ml_expert")})
    return plasmode_world(np.random.default_rng(3), source, LLMS, n_companies=60, zero_share=0.25,
                          prevalence_beta=(0.7, 3.0), headcount_range=(20, 5000), sample_size_range=(5, 60))


@pytest.fixture(scope="module")
def model(world):
    return HeadcountModel(**OPTIONS).fit(world.rated, world.samples, world.companies, annotators=LLMS, seed=0)


@pytest.fixture(scope="module")
def widths(model):
    return sampling.expected_widths(model, sampling.SamplingOptions(n_simulations=30))


def test_expected_widths_shrink_with_more_employees_and_match_the_model(model, widths):
    assert widths.height == model.data_.n_companies
    big = widths.filter(pl.col("max_additional") >= 200)
    assert (big["width_after_10"] < big["width_now"]).mean() > 0.9
    assert (big["width_after_200"] < big["width_after_50"]).all()
    full = widths.filter(pl.col("max_additional") == 0)
    assert (full["width_after_200"] == full["width_now"]).all()  # nobody left to sample
    # width_now is the model's own q10-q90 up to the approximation (within 25% in total)
    summary = model.sample(400, 0).summary
    realised = float((summary["q90"] - summary["q10"]).sum())
    assert abs(widths["width_now"].sum() / realised - 1) < 0.25


def test_plan_respects_the_budget_and_more_budget_never_widens(widths):
    previous = np.inf
    for budget in (0.0, 0.3, 1.0, 3.0, 1e9):
        plan = sampling.plan_sampling(widths, 0.006, budget)
        assert plan["planned_cost_usd"].sum() <= budget + 1e-9
        assert ((plan["planned_additional"] <= plan["max_additional"]) | (plan["planned_additional"] == 0)).all()
        total = plan["expected_width_planned"].sum()
        assert total <= previous + 1e-9
        previous = total
    nothing = sampling.plan_sampling(widths, 0.006, 0.0)
    assert nothing["planned_additional"].sum() == 0 and nothing["priority"].null_count() == nothing.height
    with pytest.raises(ValueError):
        sampling.plan_sampling(widths, -1.0, 1.0)
    curve = sampling.budget_curve(widths, 0.006, [0.5, 2.0], n_random=10)
    assert (curve["expected_width_planned"] <= curve["expected_width_random"] + 1e-9).all()


def test_following_the_plan_shrinks_realised_widths_more_than_random_allocation(world):
    """Realised, not expected: the planned employees are sampled from the world and the model refitted
    (benchmarks/planning_simulation.py runs the larger version; docs/validation.md section 9)."""
    results = plan_versus_random(world, [2.0], 0.006, n_random=2, n_simulations=20, options=OPTIONS)
    ratio = reduction_ratio(results).row(0, named=True)
    assert ratio["reduction_plan"] > 0 and ratio["ratio"] > 1.2, ratio


def test_rating_plan_ranks_poorly_determined_frequent_patterns_first(model, world):
    samples = world.samples
    plan = rating.plan_ratings(model, samples, n_items=30)
    assert plan["rank"].to_list() == list(range(1, 31))
    assert plan["item_id"].n_unique() == 30 and set(plan["item_id"]) <= set(samples["item_id"])
    gains = plan["expected_reduction"].to_numpy()
    assert (np.diff(gains) <= 1e-12).all()  # greedy: never a larger gain after a smaller one
    variances = rating.pattern_variances(model)
    top = variances.filter(pl.col("n_profiles_with_pattern") > 0).with_columns(
        gain=pl.col("parameter_variance") / (pl.col("n_rated_with_pattern") + 2)).sort("gain", descending=True)
    assert plan["pattern"][0] == top["pattern"][0]
    with pytest.raises(ValueError):
        rating.plan_ratings(model, samples, n_items=0)
    assert rating.plan_ratings(model, samples.head(0), n_items=5).height == 0


def test_rating_a_pattern_lowers_its_parameter_spread(world):
    """The premise of the rating plan, checked: with more rated items, the replicate spread of the expected
    expert counts falls (here: the rated set doubled by resampling the same rows)."""
    few = HeadcountModel(**OPTIONS).fit(world.rated.sample(fraction=0.5, seed=1), world.samples, world.companies,
                                        annotators=LLMS, seed=0)
    many = HeadcountModel(**OPTIONS).fit(world.rated, world.samples, world.companies, annotators=LLMS, seed=0)
    assert rating.pattern_variances(many)["parameter_variance"].sum() < rating.pattern_variances(few)["parameter_variance"].sum()
