"""The plasmode calibration harness at small size: intervals cover, the posterior beats the baselines."""

from __future__ import annotations

import polars as pl
import pytest

from workforce_assets.annotation.names import canonical_annotator_name
import numpy as np

from workforce_assets.headcount.calibration import ORACLE, oracle_log_likelihood, run_replication, summarise
from workforce_assets.headcount.patterns import build_pattern_data


@pytest.fixture(scope="module")
def results(shared_data):
    source = pl.read_csv(shared_data / "annotations" / "validation_annotations.csv").drop("cv_text")
    source = source.rename({c: canonical_annotator_name(c) for c in source.columns if c not in ("cv_id", "is_ml_expert")})
    annotators = [c for c in source.columns if c not in ("cv_id", "is_ml_expert")]
    estimators = {"semi": {"method": "saturated", "fit": "semi_supervised", "n_bootstrap": 10},
                  "supervised": {"method": "saturated", "fit": "supervised", "n_bootstrap": 10}}
    return pl.concat([run_replication(source, annotators, r, estimators, n_companies=150, n_draws=200,
                                      oracle=True)
                      for r in range(2)], how="diagonal_relaxed")


def test_intervals_cover_and_posterior_mean_beats_majority_vote(results):
    overall = {row["estimator"]: row for row in summarise(results, ["estimator"]).iter_rows(named=True)}
    semi = overall["semi"]
    assert 0.72 <= semi["coverage80"] <= 0.95
    assert semi["coverage50"] < semi["coverage80"] < semi["coverage90"]
    assert 0.70 <= semi["pit_coverage80"] <= 0.90
    assert semi["mae"] < 0.8 * overall["majority vote"]["mae"]
    assert semi["mae"] < overall["Dawid-Skene (point)"]["mae"]


def test_semi_supervised_fit_does_not_invent_experts_at_companies_without_any(results):
    """The supervised-only fit puts a few percent ML share on zero-expert companies; the joint fit must not."""
    zero = results.filter(pl.col("true_count") == 0).group_by("estimator").agg(
        (pl.col("mean") / pl.col("headcount")).mean().alias("share"))
    share = dict(zero.iter_rows())
    # measured: 0.0124-0.0127 with the log-spline prior (it keeps some mass at 0.1-1%), under 0.01 with the Beta
    assert share["semi"] < 0.015
    assert share["semi"] < share["supervised"]
    assert share["majority vote"] > 0.02


def test_oracle_is_the_exact_simulation_model():
    """The oracle's class-conditional pattern probabilities are the simulation rows' frequencies."""
    rows = pl.DataFrame({"is_ml_expert": [1, 1, 1, 0, 0], "a": [1, 1, 0, 0, None], "b": [1, 1, 1, 0, 0]})
    samples = pl.DataFrame({"company_id": ["c"] * 3, "a": [1, 0, None], "b": [1, 1, 0]})
    rated = pl.DataFrame({"is_ml_expert": [1, 0], "a": [1, 0], "b": [1, 0]})
    data = build_pattern_data(rated, samples, pl.DataFrame({"company_id": ["c"], "headcount": [10]}), ["a", "b"])
    probability = np.exp(oracle_log_likelihood(data, rows, ["a", "b"]))
    by_pattern = {tuple(p): probability[i] for i, p in enumerate(data.patterns.tolist())}
    assert by_pattern[(1, 1)].tolist() == [0.0, 2 / 3]
    assert by_pattern[(0, 1)].tolist() == [0.0, 1 / 3]
    assert by_pattern[(-1, 0)].tolist() == [0.5, 0.0]
    assert by_pattern[(0, 0)].tolist() == [0.5, 0.0]  # a rated-only pattern still gets its true probability


def test_estimator_is_close_to_the_exact_posterior(results):
    """The oracle (true annotator model and prior) bounds what any estimator can do on this design; the
    default's randomised-PIT coverage and MAE must be near it."""
    overall = {row["estimator"]: row for row in summarise(results, ["estimator"]).iter_rows(named=True)}
    oracle, semi = overall[ORACLE], overall["semi"]
    assert 0.72 <= oracle["pit_coverage80"] <= 0.88
    assert abs(semi["pit_coverage80"] - oracle["pit_coverage80"]) < 0.06
    assert oracle["mae"] <= semi["mae"] * 1.02
    assert semi["mae"] < 1.25 * oracle["mae"]


def test_shortest_interval_spends_no_tail_inside_the_zero_atom():
    from workforce_assets.headcount.calibration import shortest_interval

    atom = np.r_[np.zeros(60), np.arange(1, 41)][None, :]  # 60% at zero, then 1..40 once each
    lower, upper = shortest_interval(atom, 0.8)
    assert (lower[0], upper[0]) == (0.0, 20.0)  # 80 of 100 draws; equal tails would reach 30
    assert np.quantile(atom, 0.9, method="inverted_cdf") == 30
    spread = np.arange(100)[None, :]
    lower, upper = shortest_interval(np.vstack([spread, spread[:, ::-1]]), 0.8)
    assert lower.tolist() == [0.0, 0.0] and upper.tolist() == [79.0, 79.0]


def test_em_run_to_convergence_recovers_the_expert_patterns_the_default_tolerance_stops_short_of(shared_data):
    """Shifted-annotator plasmode, replication 1, the three sound LLMs: the EM's default stopping rule
    (no expected count moves by 1e-3 of its pattern's total) stops after a few iterations with the expert
    pattern distribution still near the rated half's; run to a 1e-7 tolerance it reaches the simulation's
    true distribution (measured: KL 0.012 -> 0.0004). ``HeadcountOptions.em_tolerance`` passes it through."""
    from workforce_assets.headcount.annotator_models import make_model
    from workforce_assets.headcount.calibration import DEFAULT_DESIGN
    from workforce_assets.headcount.model import HeadcountOptions
    from workforce_assets.headcount.posterior import semi_supervised_fit
    from workforce_assets.headcount.prevalence import LogSplinePrior, PrevalenceGrid
    from workforce_assets.headcount.simulation import plasmode_world

    source = pl.read_csv(shared_data / "annotations" / "validation_annotations.csv").drop("cv_text")
    source = source.rename({c: canonical_annotator_name(c) for c in source.columns if c not in ("cv_id", "is_ml_expert")})
    annotators = [c for c in source.columns if c not in ("cv_id", "is_ml_expert")]
    shift = {"filter_broad_yes": 0.8, "filter_strict_no": 0.8, "filter_broad_yes_strict_no": 0.8}
    world = plasmode_world(np.random.default_rng(10_001), source, annotators, n_companies=400, profile_shift=shift,
                           **DEFAULT_DESIGN)
    sound = [a for a in annotators if a not in shift]
    data = build_pattern_data(world.rated, world.samples, world.companies, sound)
    truth = oracle_log_likelihood(data, world.simulation_rows, sound)
    grid = PrevalenceGrid.default(linear_step=0.02, geometric_cells=15)

    fits = {}

    def expert_kl(tolerance: float, iterations: int, family: str = "beta", accelerate: bool = False):
        trace = []
        log_lik, _, prior = semi_supervised_fit(data, make_model("saturated"), data.rated_counts, grid,
                                                n_iterations=iterations, tolerance=tolerance, trace=trace,
                                                prior_family=family, accelerate=accelerate)
        fits[(tolerance, family, accelerate)] = log_lik
        return float(np.sum(np.exp(truth[:, 1]) * (truth[:, 1] - log_lik[:, 1]))), len(trace), prior

    early, early_steps, _ = expert_kl(1e-3, 100)
    converged, converged_steps, _ = expert_kl(1e-7, 3000)
    assert early_steps < 50 < converged_steps
    assert converged < 0.002 < 0.008 < early
    # SQUAREM reaches the same fixed point with a fifth of the EM steps (measured: 52 cycles of 3 against 1,364)
    accelerated, cycles, _ = expert_kl(1e-7, 3000, accelerate=True)
    assert 3 * cycles < converged_steps / 5
    assert abs(accelerated - converged) < 1e-4
    assert np.allclose(np.exp(fits[(1e-7, "beta", True)]), np.exp(fits[(1e-7, "beta", False)]), atol=1e-4)
    spline, _, spline_prior = expert_kl(1e-7, 3000, "log_spline")  # the E-step prior of the other family
    assert isinstance(spline_prior, LogSplinePrior) and spline < 0.002
    for bad in ({"em_tolerance": -1.0}, {"em_prior": "normal"}, {"em_zero_atom": "sometimes"}):
        with pytest.raises(ValueError):
            HeadcountOptions(**bad)
