"""Calibration harness on the simulated demo world: estimator inputs built from the demo files, and the truth.

The second check world besides the plasmode of the real rated CVs (:mod:`workforce_assets.headcount.calibration`).
Here the three keyword filters are deterministic functions of the text (filter_broad_yes_strict_no ==
broad_yes AND strict_no), the LLM labels come from the demo's correlated latent-Gaussian model, and many
companies have 0.5-2% experts: the regime where the semi-supervised fit once declared companies with
hundreds of experts expert-free (docs/validation.md, "Calibration on the simulated demo world").
Inputs are built with the core functions only (no Dagster): LLM labels as imported, filters from
:func:`apply_keyword_filters` on the texts (an empty text gives missing filter labels).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from workforce_assets.annotation.keywords import REFERENCE_KEYWORDS, apply_keyword_filters
from workforce_assets.annotation.names import canonical_annotator_name, parse_label
from workforce_assets.demo import DemoConfig, generate_demo_world
from workforce_assets.demo import companies as demo_companies
from workforce_assets.demo.vocabulary import INDUSTRIES
from workforce_assets.headcount.calibration import LEVELS, interval_columns, oracle_log_likelihood, randomised_pit
from workforce_assets.headcount.patterns import build_pattern_data
from workforce_assets.headcount.posterior import draw_whole_company_counts, estimate_company_headcounts
from workforce_assets.headcount.prevalence import PrevalenceGrid, pattern_grid_log_likelihood, relative_likelihood
from workforce_assets.headcount.validation import majority_vote_probability


ORACLE_NAME = "oracle (true pattern distributions, marginal prior)"


def _wide_labels(items: pl.DataFrame, texts: pl.DataFrame, llm_labels: pl.DataFrame) -> pl.DataFrame:
    """``items`` plus one Int8 0/1/null column per annotator (canonical names): filters from text, LLMs imported."""
    filters = apply_keyword_filters(texts, REFERENCE_KEYWORDS).pivot(on="annotator", index="item_id", values="label")
    filters = filters.rename({c: canonical_annotator_name(c) for c in filters.columns if c != "item_id"})
    llm = llm_labels.select("item_id", *[
        pl.col(c).map_elements(parse_label, return_dtype=pl.Int8, skip_nulls=True).alias(canonical_annotator_name(c))
        for c in llm_labels.columns if c != "item_id"])
    wide = items.join(filters, on="item_id", how="left", maintain_order="left")
    wide = wide.join(llm, on="item_id", how="left", maintain_order="left")
    if wide.height != items.height:
        raise ValueError("duplicate item ids in the demo labels")
    return wide


def demo_inputs(directory: Path, config: DemoConfig = DemoConfig()) -> dict:
    """Generate the demo world of ``config`` into ``directory``; return the estimator inputs and the truth.

    Keys: rated (is_ml_expert + annotators), samples (company_id + annotators), companies (sampled ones:
    company_id, headcount), annotators, truth (company_id, headcount, n_sampled, true_count, prevalence),
    sample_truth (the true class of each row of samples, Int8), n_companies (of the world, sampled or not).
    """
    directory = Path(directory)
    generate_demo_world(directory, config)
    llm_labels = pl.read_csv(directory / "annotations" / "llm_labels.csv", infer_schema_length=0)
    rated_cvs = pl.read_csv(directory / "rated_cvs.csv", schema_overrides={"cv_text": pl.String})
    rated = _wide_labels(rated_cvs.select(pl.col("cv_id").alias("item_id"), pl.col("is_ml_expert").cast(pl.Int8)),
                         rated_cvs.select(pl.col("cv_id").alias("item_id"), pl.col("cv_text").alias("text")), llm_labels)
    profiles = pl.concat([pl.read_csv(path, schema_overrides={"profile_text": pl.String})
                          for path in sorted((directory / "profiles").glob("batch_*.csv"))])
    samples = _wide_labels(profiles.select(pl.col("profile_id").alias("item_id"), "company_id"),
                           profiles.select(pl.col("profile_id").alias("item_id"), pl.col("profile_text").alias("text")),
                           llm_labels)
    truth = pl.read_csv(directory / "truth" / "company_truth.csv").filter(pl.col("n_sampled") > 0)
    profile_truth = pl.read_csv(directory / "truth" / "profile_truth.csv", columns=["profile_id", "is_ml_expert"])
    sample_truth = profiles.select("profile_id").join(profile_truth, on="profile_id", how="left", maintain_order="left")
    if sample_truth.height != profiles.height or sample_truth["is_ml_expert"].null_count():
        raise ValueError("every demo profile needs exactly one row in truth/profile_truth.csv")
    annotators = [c for c in rated.columns if c not in ("item_id", "is_ml_expert")]
    return {
        "rated": rated.drop("item_id"), "samples": samples.drop("item_id"),
        "companies": truth.select("company_id", "headcount"), "annotators": annotators,
        "truth": truth.select("company_id", "headcount", "n_sampled", pl.col("true_ml_experts").alias("true_count"),
                              "prevalence"),
        "sample_truth": sample_truth["is_ml_expert"].cast(pl.Int8), "n_companies": config.n_companies,
    }


def demo_prevalence_masses(grid: PrevalenceGrid, n_companies: int) -> np.ndarray:
    """The demo's prevalence distribution of a company drawn at random, as masses on ``grid`` (zero atom first).

    The generator (:func:`workforce_assets.demo.companies.simulate_companies`) draws an industry, then a Beta
    of that industry stretched onto [0.5%, 40%], and sets a fixed share of the non-AI-lab companies to zero:
    so the zero atom is that share, and each non-AI industry's weight in the rest shrinks by the zeros it gave.
    """
    names = list(INDUSTRIES)
    weights = np.array([INDUSTRIES[name][0] for name in names])
    weights = weights / weights.sum()
    lab = names.index("AI research lab")
    zero = round(demo_companies.ZERO_PREVALENCE_SHARE * n_companies) / n_companies
    kept = np.where(np.arange(len(names)) == lab, 1.0, 1.0 - zero / (1.0 - weights[lab]))
    low, high = demo_companies.MIN_PREVALENCE, demo_companies.MAX_PREVALENCE
    stretched = np.clip((grid.edges - low) / (high - low), 0.0, 1.0)
    nonzero = sum(w * k * np.diff(stats.beta.cdf(stretched, *INDUSTRIES[name][1]))
                  for name, w, k in zip(names, weights, kept))
    return np.r_[zero, (1 - zero) * nonzero / nonzero.sum()]


def demo_profile_population(n_companies: int = 4000, seed: int = 999_999) -> pl.DataFrame:
    """Every annotator's labels and the true class (``is_ml_expert``) of every profile of a large demo world
    (``n_companies`` companies, ~50 sampled profiles each) of another seed: the demo's pattern distributions."""
    with tempfile.TemporaryDirectory() as tmp:
        big = demo_inputs(Path(tmp), DemoConfig(seed=seed, n_companies=n_companies, n_job_records=100, n_employers=20))
    return big["samples"].select(big["annotators"]).with_columns(is_ml_expert=big["sample_truth"])


def demo_oracle_draws(inputs: dict, population: pl.DataFrame, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """(sampled companies in ``truth`` order, n_draws) whole-company counts from the exact posterior under
    the demo's pattern distributions (the frequencies in ``population``) and its marginal prevalence
    distribution (:func:`demo_prevalence_masses`): the best an estimator with one prior for all companies
    can do on this world (the generator's prior differs by industry, which no estimator here is told).

    The demo's labels depend on an employee's class only (filter cells drawn by class, LLM labels from one
    latent-Gaussian model), so the pattern frequencies by true class among ~200,000 profiles of
    ``population`` are the generator's distributions up to a sampling error far below any estimator's; half a
    pseudo-count per pattern and class keeps a pattern the population never showed finite."""
    data = build_pattern_data(inputs["rated"], inputs["samples"], inputs["companies"], inputs["annotators"])
    log_lik = oracle_log_likelihood(data, population, data.annotators, pseudo_count=0.5)
    grid = PrevalenceGrid.default()
    company_log_lik = np.asarray(data.company_pattern_matrix() @ pattern_grid_log_likelihood(log_lik, grid))
    posterior = relative_likelihood(company_log_lik) * demo_prevalence_masses(grid, inputs["n_companies"])[None, :]
    posterior /= posterior.sum(axis=1, keepdims=True)
    draws = draw_whole_company_counts(data, log_lik, posterior, grid, n_draws, rng, data.entry_to_company())
    row = {company: i for i, company in enumerate(data.company_ids)}
    return draws[[row[c] for c in inputs["truth"]["company_id"].to_list()]]


def majority_vote_intervals(inputs: dict) -> dict[str, np.ndarray]:
    """Majority-vote share of the sampled employees x headcount (Wilson intervals), in ``truth`` order."""
    samples = inputs["samples"]
    labels = samples.select(inputs["annotators"]).to_numpy().astype(float)
    labels = np.where(np.isnan(labels), -1, labels).astype(np.int8)
    vote = (majority_vote_probability(labels) >= 0.5).astype(float)
    per_company = pl.DataFrame({"company_id": samples["company_id"], "vote": vote}).group_by("company_id").agg(
        pl.col("vote").sum().alias("yes"), pl.len().alias("n"))
    table = inputs["truth"].join(per_company, on="company_id", how="left", maintain_order="left")
    yes, n, headcount = table["yes"].to_numpy(), table["n"].to_numpy(), table["headcount"].to_numpy()
    out = {"mean": yes / n * headcount}
    for level in LEVELS:
        bounds = [stats.binomtest(int(y), int(m)).proportion_ci(confidence_level=level, method="wilson")
                  for y, m in zip(yes, n)]
        out[f"lower{int(level * 100)}"] = np.floor(np.array([b.low for b in bounds]) * headcount)
        out[f"upper{int(level * 100)}"] = np.ceil(np.array([b.high for b in bounds]) * headcount)
    return out


def run_demo_seed(seed: int, estimators: dict[str, dict], n_draws: int = 400,
                  config: DemoConfig | None = None, population: pl.DataFrame | None = None) -> pl.DataFrame:
    """One demo world: a long table with one row per (estimator, sampled company), the columns
    :func:`workforce_assets.headcount.calibration.summarise` reads, plus ``resolved`` (method/fit used) and
    ``zero_weight`` (mean fitted zero weight of the prevalence prior). With ``population``
    (:func:`demo_profile_population`) the oracle too (:func:`demo_oracle_draws`)."""
    config = DemoConfig(seed=seed) if config is None else config
    with tempfile.TemporaryDirectory() as tmp:
        inputs = demo_inputs(Path(tmp), config)
    truth = inputs["truth"]
    true_count = truth["true_count"].to_numpy()
    rng = np.random.default_rng(seed)
    frames = []

    def add(name: str, columns: dict[str, np.ndarray], seconds: float, resolved: str = "",
            zero_weight: float = float("nan")) -> None:
        frames.append(truth.with_columns(
            pl.lit(name).alias("estimator"), pl.lit(resolved).alias("resolved"), pl.lit(seed).alias("replication"),
            pl.lit(seconds).alias("seconds"), pl.lit(zero_weight).alias("zero_weight"),
            *[pl.Series(key, np.asarray(value, dtype=float)) for key, value in columns.items()]))

    def columns_of(draws: np.ndarray) -> dict[str, np.ndarray]:
        return {**interval_columns(draws), "pit": randomised_pit(draws, true_count, rng)}

    add("majority vote", {**majority_vote_intervals(inputs), "pit": np.full(truth.height, np.nan)}, 0.0)
    for name, options in estimators.items():
        started = time.perf_counter()
        estimate = estimate_company_headcounts(inputs["rated"], inputs["samples"], inputs["companies"],
                                               inputs["annotators"], n_draws=n_draws, seed=seed, **options)
        seconds = time.perf_counter() - started
        row = {company: i for i, company in enumerate(estimate.summary["company_id"].to_list())}
        draws = estimate.draws[[row[c] for c in truth["company_id"].to_list()]]
        zero_weight = float(np.mean([prior["zero_weight"] for prior in estimate.diagnostics["priors"]]))
        add(name, columns_of(draws), seconds, estimate.summary["method"][0], zero_weight)
    if population is not None:
        started = time.perf_counter()
        draws = demo_oracle_draws(inputs, population, n_draws, rng)
        add(ORACLE_NAME, columns_of(draws), time.perf_counter() - started, "oracle")
    return pl.concat(frames, how="diagonal_relaxed")
