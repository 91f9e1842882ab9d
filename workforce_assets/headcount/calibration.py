"""Plasmode calibration harness: do the company intervals cover, and does the posterior mean beat the baselines?

Each replication splits the real rated CVs in two (one half given to the estimators as rated items, the
other used only to simulate employees' annotation patterns), draws companies with known true counts, runs
every estimator, and records per company: truth, estimate, 50/80/90% intervals. Summaries are by size band
and by true-prevalence band (zero included).

Baselines: majority vote (share of sampled employees with at least half yes votes, times headcount, with a
Wilson interval on the share), the classical semi-supervised Dawid-Skene point estimate (independent
annotators, one prevalence per company, EM on rated + sampled items), the original log-debias and the
Rogan-Gladen consensus, both fed with each annotator's count among the sampled employees.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import polars as pl
from scipy import special, stats

from workforce_assets.headcount.annotator_models import IndependentModel
from workforce_assets.headcount.calibrated_debias import rogan_gladen_consensus
from workforce_assets.headcount.log_debias import log_debias, method_counts_from_samples
from workforce_assets.headcount.patterns import build_pattern_data
from workforce_assets.headcount.posterior import draw_whole_company_counts, posterior_draws
from workforce_assets.headcount.prevalence import (
    PrevalenceGrid,
    ZeroInflatedBeta,
    pattern_grid_log_likelihood,
    relative_likelihood,
)
from workforce_assets.headcount.simulation import SimulatedWorld, plasmode_world
from workforce_assets.headcount.validation import majority_vote_probability

LEVELS = (0.5, 0.8, 0.9)
# the default plasmode design: log-uniform headcounts 20-200k, log-uniform sample sizes 10-2,000 (as in the
# real 12-lab set: 8-4,308), a quarter of companies with no expert, the rest Beta(0.7, 3) (mean 19%)
DEFAULT_DESIGN = {"headcount_range": (20, 200_000), "sample_size_range": (10, 2_000), "zero_share": 0.25,
                  "prevalence_beta": (0.7, 3.0)}
ORACLE = "oracle (true model and prior)"
ORACLE_SOUND = "oracle on the unshifted annotators (true model and prior)"
SIZE_BANDS = [(0, 100, "<100"), (100, 1_000, "100-999"), (1_000, 10_000, "1k-9.9k"), (10_000, np.inf, ">=10k")]
SAMPLE_BANDS = [(0, 10, "1-9"), (10, 50, "10-49"), (50, 200, "50-199"), (200, np.inf, ">=200")]
SHARE_BANDS = [(-1.0, 0.0, "0 (no expert)"), (0.0, 0.02, "(0, 2%]"), (0.02, 0.10, "(2, 10%]"),
               (0.10, 0.30, "(10, 30%]"), (0.30, 1.0, "(30, 100%]")]


def dawid_skene_point_estimate(world_data, n_iterations: int = 100, tolerance: float = 1e-6) -> np.ndarray:
    """Classical Dawid-Skene EM with one prevalence per company; returns expected whole-company counts."""
    model = IndependentModel()
    log_lik = model.log_likelihood(world_data.patterns, world_data.rated_counts)
    n_sampled = world_data.n_sampled
    prevalence = np.full(world_data.n_companies, 0.1)
    for _ in range(n_iterations):
        logit = special.logit(np.clip(prevalence, 1e-9, 1 - 1e-9))[world_data.entry_company]
        share = special.expit(logit + (log_lik[:, 1] - log_lik[:, 0])[world_data.entry_pattern])
        experts = np.bincount(world_data.entry_company, weights=world_data.entry_count * share,
                              minlength=world_data.n_companies)
        new = np.where(n_sampled > 0, experts / np.maximum(n_sampled, 1), prevalence)
        weights = world_data.rated_counts.copy()
        np.add.at(weights[:, 1], world_data.entry_pattern, world_data.entry_count * share)
        np.add.at(weights[:, 0], world_data.entry_pattern, world_data.entry_count * (1 - share))
        log_lik = model.log_likelihood(world_data.patterns, weights)
        if np.max(np.abs(new - prevalence)) < tolerance:
            prevalence = new
            break
        prevalence = new
    return experts + (world_data.headcounts - n_sampled) * prevalence


def majority_vote_estimate(world: SimulatedWorld, company_ids: list[str]) -> dict[str, np.ndarray]:
    """Majority-vote share x headcount, with Wilson intervals on the share at each level."""
    labels = world.samples.select(world.annotators).to_numpy()
    labels = np.where(np.isnan(labels.astype(float)), -1, labels).astype(np.int8)
    vote = (majority_vote_probability(labels) >= 0.5).astype(float)
    per_company = pl.DataFrame({"company_id": world.samples["company_id"], "vote": vote}).group_by("company_id").agg(
        pl.col("vote").sum().alias("yes"), pl.len().alias("n"))
    table = pl.DataFrame({"company_id": company_ids}).join(per_company, on="company_id", how="left", maintain_order="left")
    table = table.join(world.companies, on="company_id", how="left", maintain_order="left")
    yes = table["yes"].fill_null(0).to_numpy()
    n = table["n"].fill_null(0).to_numpy().astype(np.int64)
    headcount = table["headcount"].to_numpy()
    share = np.where(n > 0, yes / np.maximum(n, 1), 0.0)
    out = {"mean": share * headcount}
    for level in LEVELS:
        low, high = np.zeros(n.size), np.ones(n.size)
        for i in np.flatnonzero(n > 0):
            interval = stats.binomtest(int(yes[i]), int(n[i])).proportion_ci(confidence_level=level, method="wilson")
            low[i], high[i] = interval.low, interval.high
        out[f"lower{int(level * 100)}"] = np.floor(low * headcount)
        out[f"upper{int(level * 100)}"] = np.ceil(high * headcount)
    return out


def randomised_pit(draws: np.ndarray, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """F(y-1) + V P(y), V ~ U(0, 1): uniform when the predictive distribution is calibrated, even for counts.

    Coverage measured on it is free of the discreteness that makes integer intervals over-cover.
    """
    below = (draws < truth[:, None]).mean(axis=1)
    at = (draws == truth[:, None]).mean(axis=1)
    return below + rng.random(truth.size) * at


def add_debias_baselines(world: SimulatedWorld, add) -> None:
    """The original log-debias and the Rogan-Gladen consensus, fed with each annotator's count among the
    sampled employees (the share times headcount for log-debias; the raw count out of the sample for RG)."""
    annotators = world.annotators
    order = world.truth.select("company_id")
    started = time.perf_counter()
    implied = method_counts_from_samples(world.samples, world.companies, annotators)
    llms = [a for a in annotators if a.startswith("llm")]
    original = order.join(log_debias(implied, [a for a in annotators if a not in llms], llms), on="company_id",
                          how="left", maintain_order="left")
    nan = np.full(order.height, np.nan)
    add("log-debias (original)", {"mean": original["estimate"].to_numpy(), "lower80": original["lower80"].to_numpy(),
                                  "upper80": original["upper80"].to_numpy(), "lower50": nan, "upper50": nan,
                                  "lower90": nan, "upper90": nan, "pit": nan}, time.perf_counter() - started)
    started = time.perf_counter()
    counts = world.samples.group_by("company_id").agg(pl.len().alias("n_sampled"), *[pl.col(a).sum() for a in annotators])
    counts = world.companies.join(counts, on="company_id", how="left", maintain_order="left")
    corrected = order.join(rogan_gladen_consensus(counts, world.rated, {a: a for a in annotators},
                                                  populations={a: "n_sampled" for a in annotators}, n_draws=400),
                           on="company_id", how="left", maintain_order="left")
    add("Rogan-Gladen consensus", {"mean": corrected["estimate"].to_numpy(), "lower80": corrected["lower80"].to_numpy(),
                                   "upper80": corrected["upper80"].to_numpy(), "lower90": corrected["lower90"].to_numpy(),
                                   "upper90": corrected["upper90"].to_numpy(), "lower50": nan, "upper50": nan,
                                   "pit": nan}, time.perf_counter() - started)


def oracle_log_likelihood(data, simulation_rows: pl.DataFrame, annotators: list[str],
                          pseudo_count: float = 0.0) -> np.ndarray:
    """(n_patterns, 2) log P(pattern | class) under the distribution the plasmode actually simulates from.

    The employees' patterns are drawn with replacement from ``simulation_rows`` of their true class, so the
    true class-conditional distribution is those rows' empirical pattern frequencies (-inf where a class
    never shows the pattern; ``pseudo_count`` per pattern and class keeps such patterns finite, for rows that
    are a large sample of a distribution rather than the distribution itself).
    """
    labels = simulation_rows.select(annotators).to_numpy().astype(float)
    labels = np.where(np.isnan(labels), -1, labels).astype(np.int8)
    truth = simulation_rows.get_column("is_ml_expert").to_numpy()
    index = {tuple(row): i for i, row in enumerate(data.patterns.tolist())}
    counts = np.full((data.patterns.shape[0], 2), float(pseudo_count))
    for row, k in zip(labels.tolist(), truth.tolist()):
        position = index.get(tuple(row))
        if position is not None:  # a simulation row no sampled employee drew is not among the patterns
            counts[position, int(k)] += 1
    totals = np.bincount(truth.astype(int), minlength=2) + pseudo_count * data.patterns.shape[0]
    with np.errstate(divide="ignore"):
        return np.log(counts / totals[None, :])


def oracle_posterior_draws(world: SimulatedWorld, data, design: dict, n_draws: int,
                           rng: np.random.Generator) -> np.ndarray:
    """Draws from the exact Bayesian posterior of the simulation: true pattern distributions, true prior.

    No estimation at all - the reference for what any estimator can reach with equal-tailed intervals on
    this design (integer counts and an atom at zero make even exact intervals over-cover).
    """
    log_lik = oracle_log_likelihood(data, world.simulation_rows, world.annotators)
    grid = PrevalenceGrid.default()
    company_log_lik = np.asarray(data.company_pattern_matrix() @ pattern_grid_log_likelihood(log_lik, grid))
    posterior = relative_likelihood(company_log_lik) * design_prior_masses(design, grid)[None, :]
    posterior /= posterior.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):  # patterns neither class shows (rated-only) give -inf - -inf; never drawn
        return draw_whole_company_counts(data, log_lik, posterior, grid, n_draws, rng, data.entry_to_company())


def design_prior_masses(design: dict, grid: PrevalenceGrid) -> np.ndarray:
    """The true prevalence distribution of a simulation design as masses on ``grid`` (zero atom first)."""
    zero = design.get("zero_share", 0.0)
    kind = design.get("prevalence_distribution", "beta")
    edges = grid.edges
    if kind == "beta":
        return ZeroInflatedBeta(zero, *design.get("prevalence_beta", (0.6, 4.0))).cell_masses(grid)
    if kind == "log_uniform":
        low, high = design.get("log_uniform_range", (0.002, 0.40))
        clipped = np.clip(edges, low, high)
        cdf = (np.log(clipped) - np.log(low)) / (np.log(high) - np.log(low))
        nonzero = np.diff(cdf)
    elif kind == "two_point":
        points = design.get("two_points", (0.01, 0.20))
        nonzero = np.zeros(grid.size - 1)
        for point in points:
            nonzero[np.searchsorted(edges, point, side="left") - 1] += 0.5
    else:
        raise ValueError(f"unknown prevalence_distribution {kind!r}")
    return np.r_[zero, (1 - zero) * nonzero / nonzero.sum()]


def shortest_interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the shortest interval holding at least ``level`` of the draws (leftmost among equals).

    The alternative to equal tails for a count with an atom at zero: when the lower 10% falls inside the
    atom, equal tails spend it there and hold ~90%; the shortest interval holds ~80%.
    """
    ordered = np.sort(draws, axis=1)
    n = ordered.shape[1]
    k = int(np.ceil(level * n - 1e-9))
    start = np.argmin(ordered[:, k - 1:] - ordered[:, :n - k + 1], axis=1)
    rows = np.arange(ordered.shape[0])
    return ordered[rows, start].astype(float), ordered[rows, start + k - 1].astype(float)


def interval_columns(draws: np.ndarray) -> dict[str, np.ndarray]:
    # the posterior median is the table's q50: the point estimate under absolute error
    out = {"mean": draws.mean(axis=1), "median": np.quantile(draws, 0.5, axis=1, method="inverted_cdf").astype(float)}
    for level in LEVELS:
        tail = (1 - level) / 2
        bounds = np.quantile(draws, [tail, 1 - tail], axis=1, method="inverted_cdf")
        out[f"lower{int(level * 100)}"] = bounds[0].astype(float)
        out[f"upper{int(level * 100)}"] = bounds[1].astype(float)
    # the equal-tailed 80% interval's own posterior mass: what a calibrated posterior's coverage would be
    out["mass80"] = ((draws >= out["lower80"][:, None]) & (draws <= out["upper80"][:, None])).mean(axis=1)
    out["shortest_lower80"], out["shortest_upper80"] = shortest_interval(draws, 0.8)
    return out


def run_replication(
    source: pl.DataFrame,
    annotators: list[str],
    replication: int,
    estimators: dict[str, dict],
    n_companies: int = 400,
    n_draws: int = 400,
    company_options: dict | None = None,
    oracle: bool = False,
    profile_shift: dict[str, float] | None = None,
) -> pl.DataFrame:
    """One plasmode replication: a long table with one row per (estimator, company).

    ``oracle=True`` adds the exact posterior of the simulation (estimator "oracle (true model and prior)";
    with ``profile_shift``, the exact posterior on the unshifted annotators' patterns alone). ``profile_shift`` breaks
    transport for the named annotators (see :func:`plasmode_world`); each estimator's row records which
    annotators it excluded (``excluded_annotators``, comma-separated).
    """
    rng = np.random.default_rng(10_000 + replication)
    design = DEFAULT_DESIGN if company_options is None else company_options
    world = plasmode_world(rng, source, annotators, n_companies=n_companies, profile_shift=profile_shift, **design)
    data = build_pattern_data(world.rated, world.samples, world.companies, annotators)
    truth = world.truth.select("company_id", "headcount", "n_sampled", "true_count", "prevalence")
    frames = []

    def add(name: str, columns: dict[str, np.ndarray], seconds: float):
        frames.append(truth.with_columns(
            pl.lit(name).alias("estimator"), pl.lit(replication).alias("replication"),
            pl.lit(seconds).alias("seconds"),
            *[pl.Series(key, np.asarray(value, dtype=float)) for key, value in columns.items()],
        ))

    started = time.perf_counter()
    add("majority vote", {**majority_vote_estimate(world, data.company_ids), "pit": np.full(data.n_companies, np.nan)},
        time.perf_counter() - started)
    started = time.perf_counter()
    nan = np.full(data.n_companies, np.nan)
    add("Dawid-Skene (point)", {"mean": dawid_skene_point_estimate(data), "pit": nan, **{
        f"{side}{int(level * 100)}": nan for level in LEVELS for side in ("lower", "upper")}},
        time.perf_counter() - started)
    add_debias_baselines(world, add)
    runs = [(name, lambda options=options: posterior_draws(data, n_draws=n_draws, seed=replication, **options))
            for name, options in estimators.items()]
    if oracle and not profile_shift:
        runs.append((ORACLE, lambda: (oracle_posterior_draws(world, data, design, n_draws, rng), {})))
    elif oracle:
        # what is reachable without the shifted annotators: the exact posterior on the others' patterns
        sound = [a for a in annotators if a not in profile_shift]
        sound_data = build_pattern_data(world.rated, world.samples, world.companies, sound)
        sound_world = replace(world, annotators=sound)
        runs.append((ORACLE_SOUND, lambda: (oracle_posterior_draws(sound_world, sound_data, design, n_draws, rng), {})))
    for name, run in runs:
        started = time.perf_counter()
        draws, diagnostics = run()
        columns = interval_columns(draws)
        columns["pit"] = randomised_pit(draws, truth["true_count"].to_numpy(), rng)
        # the portfolio total from summed draws (one value per replication, repeated on its rows)
        total = draws.sum(axis=0)
        for key, value in (("total_mean", total.mean()), ("total_lower80", np.quantile(total, 0.1)),
                           ("total_upper80", np.quantile(total, 0.9))):
            columns[key] = np.full(data.n_companies, value)
        add(name, columns, time.perf_counter() - started)
        frames[-1] = frames[-1].with_columns(excluded_annotators=pl.lit(",".join(diagnostics.get("excluded_annotators", []))))
    return pl.concat(frames, how="diagonal_relaxed")


def total_summary(results: pl.DataFrame) -> pl.DataFrame:
    """Per estimator: how often the 80% interval of the portfolio total (summed draws) held the true total."""
    per_replication = results.filter(pl.col("total_mean").is_not_null() & pl.col("total_mean").is_not_nan()).group_by(
        "estimator", "replication").agg(pl.col("true_count").sum().alias("true_total"),
                                        pl.col("total_mean", "total_lower80", "total_upper80").first())
    return per_replication.group_by("estimator", maintain_order=True).agg(
        pl.len().alias("replications"),
        ((pl.col("total_lower80") <= pl.col("true_total")) & (pl.col("true_total") <= pl.col("total_upper80")))
        .cast(pl.Float64).mean().alias("total_coverage80"),
        ((pl.col("total_mean") - pl.col("true_total")) / pl.col("true_total")).mean().alias("total_relative_bias"),
        ((pl.col("total_upper80") - pl.col("total_lower80")) / pl.col("true_total")).mean().alias("total_relative_width80"),
    ).sort("estimator")


def band_expressions() -> list[pl.Expr]:
    size = pl.when(pl.lit(False)).then(pl.lit(""))
    for low, high, label in SIZE_BANDS:
        size = size.when((pl.col("headcount") >= low) & (pl.col("headcount") < high)).then(pl.lit(label))
    share = pl.when(pl.lit(False)).then(pl.lit(""))
    true_share = pl.col("true_count") / pl.col("headcount")
    for low, high, label in SHARE_BANDS:
        share = share.when((true_share > low) & (true_share <= high)).then(pl.lit(label))
    sample = pl.when(pl.lit(False)).then(pl.lit(""))
    for low, high, label in SAMPLE_BANDS:
        sample = sample.when((pl.col("n_sampled") >= low) & (pl.col("n_sampled") < high)).then(pl.lit(label))
    return [size.alias("size_band"), share.alias("prevalence_band"), sample.alias("sample_band")]


def summarise(results: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Coverage of the 50/80/90% equal-tailed intervals, the 80% interval's mean posterior mass (the coverage
    a calibrated posterior would have), coverage of the shortest 80% interval and of the central 80% by
    randomised PIT; bias, MAE (of the mean; ``mae_median``: of the posterior median, where given), MAE of the
    share, mean and median relative 80% width; per group."""
    error = pl.col("mean") - pl.col("true_count")
    aggregations = [pl.len().alias("n")]
    for level in LEVELS:
        tag = int(level * 100)
        inside = (pl.col(f"lower{tag}") <= pl.col("true_count")) & (pl.col("true_count") <= pl.col(f"upper{tag}"))
        inside = pl.when(pl.col(f"lower{tag}").is_nan()).then(None).otherwise(inside.cast(pl.Float64))
        aggregations.append(inside.mean().alias(f"coverage{tag}"))
    if "mass80" in results.columns:
        aggregations.append(pl.col("mass80").fill_nan(None).mean().alias("mass80"))
    if "shortest_lower80" in results.columns:
        inside = (pl.col("shortest_lower80") <= pl.col("true_count")) & (pl.col("true_count") <= pl.col("shortest_upper80"))
        aggregations.append(pl.when(pl.col("shortest_lower80").is_nan()).then(None)
                            .otherwise(inside.cast(pl.Float64)).mean().alias("shortest_coverage80"))
    pit = pl.col("pit")
    aggregations.append(pl.when(pit.is_nan()).then(None).otherwise(((pit >= 0.1) & (pit <= 0.9)).cast(pl.Float64))
                        .mean().alias("pit_coverage80"))
    if "median" in results.columns:  # posterior estimators: the MAE of their median (q50) too
        aggregations.append(pl.when(pl.col("median").is_nan()).then(None)
                            .otherwise((pl.col("median") - pl.col("true_count")).abs()).mean().alias("mae_median"))
    aggregations += [
        error.mean().alias("bias"), error.abs().mean().alias("mae"),
        (error.abs() / pl.col("headcount")).mean().alias("mae_share"),
        (pl.col("upper80") - pl.col("lower80")).mean().alias("width80"),
        ((pl.col("upper80") - pl.col("lower80")) / pl.col("headcount")).median().alias("median_width80_share"),
    ]
    return results.with_columns(band_expressions()).group_by(by, maintain_order=True).agg(aggregations).sort(by)
