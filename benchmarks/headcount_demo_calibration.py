"""Calibration of the company headcount posteriors on the simulated demo world (prints markdown tables).

For each demo seed: generate the default-size demo world (workforce_assets.demo), build the rated-CV and
company-sample wide matrices with the core functions only (no Dagster: the LLM labels as imported, the
three keyword filters from apply_keyword_filters on the texts, empty texts -> missing filter labels), run
estimate_company_headcounts for each candidate estimator and compare its 50/80/90% intervals and posterior
mean with the whole-company true count (truth/company_truth.csv), overall and by true-prevalence band.

Unlike the plasmode of the real rated CVs (benchmarks/headcount_calibration.py), here the filters are
deterministic functions of the text (filter_broad_yes_strict_no == broad_yes AND strict_no) and the
employees' patterns come from the demo's own generative model, so it checks a second, independent world.

    .venv/bin/python benchmarks/headcount_demo_calibration.py                    # seeds 7..11, all estimators
    .venv/bin/python benchmarks/headcount_demo_calibration.py --seeds 7 8 --estimators default probit
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from workforce_assets.annotation.keywords import REFERENCE_KEYWORDS, apply_keyword_filters
from workforce_assets.annotation.names import canonical_annotator_name, parse_label
from workforce_assets.demo import DemoConfig, generate_demo_world
from workforce_assets.headcount import estimate_company_headcounts
from workforce_assets.headcount.calibration import LEVELS, randomised_pit, summarise
from workforce_assets.headcount.validation import majority_vote_probability

ESTIMATORS = {
    "default (auto)": {},
    "saturated, semi-supervised": {"method": "saturated", "fit": "semi_supervised"},
    "probit, supervised": {"method": "probit", "fit": "supervised"},
    "log-linear, semi-supervised": {"method": "loglinear", "fit": "semi_supervised"},
    "log-linear, supervised": {"method": "loglinear", "fit": "supervised"},
    "saturated, supervised": {"method": "saturated", "fit": "supervised"},
}


def _wide_labels(item_ids: pl.DataFrame, texts: pl.DataFrame, llm_labels: pl.DataFrame) -> pl.DataFrame:
    """item_id plus one Int8 0/1/null column per annotator (canonical names): filters from text, LLMs imported."""
    filters = apply_keyword_filters(texts, REFERENCE_KEYWORDS).pivot(on="annotator", index="item_id", values="label")
    llm_columns = [c for c in llm_labels.columns if c != "item_id"]
    llm = llm_labels.select("item_id", *[
        pl.col(c).map_elements(parse_label, return_dtype=pl.Int8, skip_nulls=True).alias(canonical_annotator_name(c))
        for c in llm_columns])
    wide = item_ids.join(filters, on="item_id", how="left", maintain_order="left").join(
        llm, on="item_id", how="left", maintain_order="left")
    return wide.rename({c: canonical_annotator_name(c) for c in wide.columns if c.startswith("filter")})


def demo_inputs(seed: int, directory: Path) -> dict:
    """The estimator inputs and the truth of the demo world of ``seed`` (written to ``directory``)."""
    generate_demo_world(directory, DemoConfig(seed=seed))
    llm_labels = pl.read_csv(directory / "annotations" / "llm_labels.csv", infer_schema_length=0)
    rated_cvs = pl.read_csv(directory / "rated_cvs.csv")
    rated = _wide_labels(rated_cvs.select(pl.col("cv_id").alias("item_id"), "is_ml_expert"),
                         rated_cvs.select(pl.col("cv_id").alias("item_id"), pl.col("cv_text").alias("text")), llm_labels)
    profiles = pl.concat([pl.read_csv(p, schema_overrides={"profile_text": pl.String})
                          for p in sorted((directory / "profiles").glob("batch_*.csv"))])
    samples = _wide_labels(profiles.select(pl.col("profile_id").alias("item_id"), "company_id"),
                           profiles.select(pl.col("profile_id").alias("item_id"), pl.col("profile_text").alias("text")),
                           llm_labels).drop("item_id")
    truth = pl.read_csv(directory / "truth" / "company_truth.csv")
    sampled = truth.filter(pl.col("n_sampled") > 0)
    annotators = [c for c in rated.columns if c not in ("item_id", "is_ml_expert")]
    return {"rated": rated.drop("item_id").with_columns(pl.col("is_ml_expert").cast(pl.Int8)), "samples": samples,
            "companies": sampled.select("company_id", "headcount"), "annotators": annotators,
            "truth": sampled.select("company_id", "headcount", "n_sampled", pl.col("true_ml_experts").alias("true_count"),
                                    "prevalence")}


def majority_vote(inputs: dict) -> dict[str, np.ndarray]:
    """Majority-vote share of the sampled employees x headcount (Wilson intervals), in truth order."""
    from scipy import stats

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


def run_seed(seed: int, estimators: dict[str, dict], n_draws: int) -> pl.DataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        inputs = demo_inputs(seed, Path(tmp))
    truth = inputs["truth"]
    frames = []

    def add(name: str, columns: dict[str, np.ndarray], seconds: float, method: str = "") -> None:
        frames.append(truth.with_columns(pl.lit(name).alias("estimator"), pl.lit(method).alias("resolved"),
                                         pl.lit(seed).alias("replication"), pl.lit(seconds).alias("seconds"),
                                         *[pl.Series(k, np.asarray(v, dtype=float)) for k, v in columns.items()]))

    rng = np.random.default_rng(seed)
    add("majority vote", {**majority_vote(inputs), "pit": np.full(truth.height, np.nan)}, 0.0)
    for name, options in estimators.items():
        started = time.perf_counter()
        estimate = estimate_company_headcounts(inputs["rated"], inputs["samples"], inputs["companies"],
                                               inputs["annotators"], n_draws=n_draws, seed=seed, **options)
        seconds = time.perf_counter() - started
        order = {c: i for i, c in enumerate(estimate.summary["company_id"].to_list())}
        draws = estimate.draws[[order[c] for c in truth["company_id"].to_list()]]
        columns = {"mean": draws.mean(axis=1)}
        for level in LEVELS:
            tail = (1 - level) / 2
            low, high = np.quantile(draws, [tail, 1 - tail], axis=1, method="inverted_cdf")
            columns[f"lower{int(level * 100)}"], columns[f"upper{int(level * 100)}"] = low, high
        columns["pit"] = randomised_pit(draws, truth["true_count"].to_numpy(), rng)
        add(name, columns, seconds, estimate.summary["method"][0])
    return pl.concat(frames, how="diagonal_relaxed")


def markdown(frame: pl.DataFrame) -> str:
    def cell(value):
        if isinstance(value, float):
            return "" if value != value else (f"{value:.2f}" if abs(value) < 10 else f"{value:,.0f}")
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * frame.width]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9, 10, 11])
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--estimators", nargs="+", help="name prefixes of the estimators to run (default: all)")
    args = parser.parse_args()
    estimators = {k: v for k, v in ESTIMATORS.items()
                  if not args.estimators or any(k.startswith(p) for p in args.estimators)}
    started = time.perf_counter()
    results = pl.concat([run_seed(seed, estimators, args.draws) for seed in args.seeds], how="diagonal_relaxed")
    print(f"demo seeds {args.seeds} (default-size worlds), {args.draws} draws; {time.perf_counter() - started:.0f} s\n")
    resolved = results.group_by("estimator", maintain_order=True).agg(
        pl.col("resolved").unique().sort().str.join(", "), pl.col("seconds").unique().mean().alias("seconds per seed"))
    overall = summarise(results, ["estimator"]).join(resolved, on="estimator", how="left")
    majority_mae = overall.filter(pl.col("estimator") == "majority vote")["mae"].item()
    overall = overall.with_columns((pl.col("mae") / majority_mae).alias("mae / majority vote"))
    print("### Overall\n")
    print(markdown(overall.drop("median_width80_share")))
    print("\n### By true-prevalence band\n")
    print(markdown(summarise(results, ["estimator", "prevalence_band"]).drop("pit_coverage80", "median_width80_share",
                                                                              "mae_share")))
    per_seed = summarise(results, ["estimator", "replication"]).select("estimator", "replication", "coverage80",
                                                                        "coverage90", "mae")
    print("\n### Per seed\n")
    print(markdown(per_seed))


if __name__ == "__main__":
    main()
