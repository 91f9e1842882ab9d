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
from workforce_assets.headcount.calibration import LEVELS, randomised_pit
from workforce_assets.headcount.posterior import estimate_company_headcounts
from workforce_assets.headcount.validation import majority_vote_probability


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
    company_id, headcount), annotators, truth (company_id, headcount, n_sampled, true_count, prevalence).
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
    annotators = [c for c in rated.columns if c not in ("item_id", "is_ml_expert")]
    return {
        "rated": rated.drop("item_id"), "samples": samples.drop("item_id"),
        "companies": truth.select("company_id", "headcount"), "annotators": annotators,
        "truth": truth.select("company_id", "headcount", "n_sampled", pl.col("true_ml_experts").alias("true_count"),
                              "prevalence"),
    }


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
                  config: DemoConfig | None = None) -> pl.DataFrame:
    """One demo world: a long table with one row per (estimator, sampled company), the columns
    :func:`workforce_assets.headcount.calibration.summarise` reads, plus ``resolved`` (method/fit used) and
    ``zero_weight`` (mean fitted zero weight of the prevalence prior)."""
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

    add("majority vote", {**majority_vote_intervals(inputs), "pit": np.full(truth.height, np.nan)}, 0.0)
    for name, options in estimators.items():
        started = time.perf_counter()
        estimate = estimate_company_headcounts(inputs["rated"], inputs["samples"], inputs["companies"],
                                               inputs["annotators"], n_draws=n_draws, seed=seed, **options)
        seconds = time.perf_counter() - started
        row = {company: i for i, company in enumerate(estimate.summary["company_id"].to_list())}
        draws = estimate.draws[[row[c] for c in truth["company_id"].to_list()]]
        columns = {"mean": draws.mean(axis=1), "pit": randomised_pit(draws, true_count, rng)}
        for level in LEVELS:
            tail = (1 - level) / 2
            low, high = np.quantile(draws, [tail, 1 - tail], axis=1, method="inverted_cdf")
            columns[f"lower{int(level * 100)}"], columns[f"upper{int(level * 100)}"] = low, high
        zero_weight = float(np.mean([prior["zero_weight"] for prior in estimate.diagnostics["priors"]]))
        add(name, columns, seconds, estimate.summary["method"][0], zero_weight)
    return pl.concat(frames, how="diagonal_relaxed")
