"""A peer in the comparison: crowd-kit's Dawid-Skene with gold labels against the default HeadcountModel.

Same plasmode as benchmarks/headcount_calibration.py (real rated CVs split in half; employees resampled
from the held-out half by true class; 400 companies per replication). crowd-kit's ``DawidSkene`` gets every
rated CV as a task with its gold label (``true_labels``) and every sampled employee as a task; its per-task
P(expert) gives the employee accuracy, and a company's count is the sum of its sampled employees'
probabilities plus the unsampled employees at the company's mean probability. HeadcountModel's employee
accuracy is P(expert | pattern, company) > 1/2 under its first replicate's fit and company posterior; its
company estimate is the posterior mean. Then both are timed at 10,000 companies / 1M employees.

Needs the benchmark extra: ``.venv/bin/pip install -e ".[benchmarks]"`` (crowd-kit, pandas).

    .venv/bin/python benchmarks/headcount_crowdkit_peer.py                  # 3 replications + the 1M timing
    .venv/bin/python benchmarks/headcount_crowdkit_peer.py --replications 1 --no-scale
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.calibration import DEFAULT_DESIGN
from workforce_assets.headcount.model import HeadcountModel
from workforce_assets.headcount.patterns import MISSING
from workforce_assets.headcount.prevalence import pattern_grid_log_likelihood
from workforce_assets.headcount.simulation import plasmode_world
from markdown_table import markdown  # benchmarks/markdown_table.py (the script's folder is on sys.path)

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "annotations" / "validation_annotations.csv"


def crowdkit_dawid_skene(rated: pl.DataFrame, samples: pl.DataFrame, annotators: list[str]) -> tuple[np.ndarray, float]:
    """P(expert) of every sampled employee (row order of ``samples``) and the seconds crowd-kit took."""
    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    rated_ids = [f"r{i}" for i in range(rated.height)]
    sample_ids = [f"s{i}" for i in range(samples.height)]
    frames = []
    for ids, frame in ((rated_ids, rated), (sample_ids, samples)):
        wide = frame.select(pl.col(annotators).cast(pl.Int64)).with_columns(task=pl.Series(ids))
        frames.append(wide.unpivot(index="task", variable_name="worker", value_name="label").drop_nulls("label"))
    long = pl.concat(frames).to_pandas()
    gold = pd.Series(rated["is_ml_expert"].to_numpy(), index=rated_ids)
    started = time.perf_counter()
    probabilities = DawidSkene(n_iter=100, tol=1e-5).fit_predict_proba(long, true_labels=gold)
    seconds = time.perf_counter() - started
    expert = probabilities[1] if 1 in probabilities.columns else probabilities.iloc[:, -1]
    return expert.reindex(sample_ids).fillna(expert.mean()).to_numpy(), seconds


def headcount_model_employee_probability(model: HeadcountModel) -> np.ndarray:
    """Per (company, pattern) entry of the fitted data: P(expert | pattern, company) under replicate 0."""
    data, replicate = model.data_, model.replicates_[0]
    posterior = model._company_posterior(data, replicate)
    with np.errstate(divide="ignore"):
        log_pi = np.log(model.grid_.values)
    log_joint = pattern_grid_log_likelihood(replicate.log_lik, model.grid_)
    expert_given = np.exp(log_pi[None, :] + replicate.log_lik[:, 1:2] - log_joint)  # (patterns, grid)
    return np.einsum("eg,eg->e", np.nan_to_num(expert_given[data.entry_pattern]), posterior[data.entry_company])


def entry_keys(samples: pl.DataFrame, model: HeadcountModel) -> np.ndarray:
    """For each sampled employee, the index of its (company, pattern) entry in the model's data."""
    data = model.data_
    labels = samples.select(data.annotators).fill_null(MISSING).to_numpy().astype(np.int8)
    pattern_index = {tuple(row): i for i, row in enumerate(data.patterns.tolist())}
    patterns = np.array([pattern_index[tuple(row)] for row in labels.tolist()])
    company_index = {c: i for i, c in enumerate(data.company_ids)}
    companies = np.array([company_index[c] for c in samples["company_id"].to_list()])
    entry_index = {(c, p): e for e, (c, p) in enumerate(zip(data.entry_company.tolist(), data.entry_pattern.tolist()))}
    return np.array([entry_index[(c, p)] for c, p in zip(companies.tolist(), patterns.tolist())])


def company_counts(samples: pl.DataFrame, probability: np.ndarray, companies: pl.DataFrame) -> pl.DataFrame:
    per_company = samples.select("company_id").with_columns(p=pl.Series(probability)).group_by("company_id").agg(
        pl.col("p").sum().alias("sampled_experts"), pl.col("p").mean().alias("share"), pl.len().alias("n"))
    return companies.join(per_company, on="company_id", how="left").with_columns(
        (pl.col("sampled_experts").fill_null(0) + (pl.col("headcount") - pl.col("n").fill_null(0)) * pl.col("share").fill_null(0))
        .alias("estimate"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--no-scale", action="store_true", help="skip the 10,000-company / 1M-employee timing")
    args = parser.parse_args()
    source = pl.read_csv(DATA).drop("cv_text")
    source = source.rename({c: canonical_annotator_name(c) for c in source.columns if c not in ("cv_id", "is_ml_expert")})
    annotators = [c for c in source.columns if c not in ("cv_id", "is_ml_expert")]
    rows = []
    for replication in range(args.replications):
        world = plasmode_world(np.random.default_rng(10_000 + replication), source, annotators, n_companies=400,
                               **DEFAULT_DESIGN)
        truth = world.truth.select("company_id", "true_count")
        started = time.perf_counter()
        model = HeadcountModel().fit(world.rated, world.samples, world.companies, annotators=annotators, seed=replication)
        summary = model.sample(1000, seed=replication).summary
        ours_seconds = time.perf_counter() - started
        ours_p = headcount_model_employee_probability(model)[entry_keys(world.samples, model)]
        ds_p, ds_seconds = crowdkit_dawid_skene(world.rated, world.samples, annotators)
        ds_counts = company_counts(world.samples, ds_p, world.companies).join(truth, on="company_id")
        ours = summary.join(truth, on="company_id")
        for name, p, error, seconds in (
            ("HeadcountModel() default", ours_p, (ours["mean"] - ours["true_count"]).abs().mean(), ours_seconds),
            ("crowd-kit DawidSkene + gold", ds_p, (ds_counts["estimate"] - ds_counts["true_count"]).abs().mean(), ds_seconds),
        ):
            rows.append({"replication": replication, "estimator": name, "employees": world.samples.height,
                         "employee accuracy": float(((p > 0.5) == world.sample_truth.astype(bool)).mean()),
                         "company MAE": float(error), "seconds": round(seconds, 1)})
        print(f"replication {replication} done", flush=True)
    table = pl.DataFrame(rows)
    print("\n### Plasmode, 400 companies per replication\n")
    print(markdown(table))
    print("\n" + markdown(table.group_by("estimator", maintain_order=True).agg(
        pl.col("employee accuracy", "company MAE", "seconds").mean())))
    if args.no_scale:
        return
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from headcount_performance import build_inputs

    world = build_inputs(10_000, 1_000_000)
    started = time.perf_counter()
    HeadcountModel().fit(world.rated, world.samples, world.companies, world.annotators, seed=1).sample(1000, seed=1)
    ours_seconds = time.perf_counter() - started
    _, ds_seconds = crowdkit_dawid_skene(world.rated, world.samples, world.annotators)
    print("\n### 10,000 companies, 1,000,000 employees, 6 annotators\n")
    print(markdown(pl.DataFrame({"estimator": ["HeadcountModel() default (fit + 1,000 draws)", "crowd-kit DawidSkene + gold (fit)"],
                                 "seconds": [round(ours_seconds, 1), round(ds_seconds, 1)]})))


if __name__ == "__main__":
    main()
