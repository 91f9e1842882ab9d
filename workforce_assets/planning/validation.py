"""Simulation check of the sampling plan: does following it shrink the intervals more than random allocation?

On a plasmode world (:func:`workforce_assets.headcount.simulation.plasmode_world`: real rated CVs, employees'
annotation patterns drawn from held-out real rows of their true class) the model is fitted, the plan is made
for a budget, the planned employees are *actually sampled* from the world (true class from the company's
true prevalence, pattern from the held-out rows of that class), the model is refitted on the enlarged
samples and the realised q10-q90 widths are summed. Random allocations of the same budget go through the
same steps. Used by ``benchmarks/planning_simulation.py`` and its test.
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl

from workforce_assets.headcount.model import HeadcountModel
from workforce_assets.headcount.simulation import int8_labels
from workforce_assets.planning.sampling import SamplingOptions, expected_widths, plan_sampling, random_allocation


def augment_samples(world, allocation: dict[str, int], rng: np.random.Generator) -> pl.DataFrame:
    """The world's samples plus ``allocation[company]`` new employees per company, drawn from the truth."""
    if not allocation:
        return world.samples
    pool = world.simulation_rows
    truth = pool.get_column("is_ml_expert").to_numpy()
    labels = pool.select(world.annotators).to_numpy().astype(float)
    labels = np.where(np.isnan(labels), -1, labels).astype(np.int8)
    prevalence = dict(zip(world.truth["company_id"].to_list(), world.truth["prevalence"].to_list()))
    rows, companies = [], []
    for company, k in sorted(allocation.items()):
        if k <= 0:
            continue
        experts = rng.random(k) < prevalence[company]
        chosen = np.empty(k, dtype=np.int64)
        for klass, where in ((1, experts), (0, ~experts)):
            chosen[where] = rng.choice(np.flatnonzero(truth == klass), size=int(where.sum()), replace=True)
        rows.append(chosen)
        companies += [company] * k
    if not rows:
        return world.samples
    drawn = labels[np.concatenate(rows)]
    new = pl.DataFrame({"item_id": [f"new{i:07d}" for i in range(drawn.shape[0])], "company_id": companies,
                        **{name: int8_labels(name, drawn[:, j]) for j, name in enumerate(world.annotators)}})
    return pl.concat([world.samples, new.select(world.samples.columns).cast(world.samples.schema)])


def realised_width(world, samples: pl.DataFrame, companies: list[str], seed: int, options: dict) -> float:
    model = HeadcountModel(**options).fit(world.rated, samples, world.companies, annotators=world.annotators, seed=seed)
    summary = model.sample(400, seed).summary.filter(pl.col("company_id").is_in(companies))
    return float((summary["q90"] - summary["q10"]).sum())


def plan_versus_random(world, budgets: list[float], cost_per_employee: float, n_random: int = 3, seed: int = 0,
                       n_simulations: int = 40, options: dict | None = None) -> pl.DataFrame:
    """One row per (budget, allocation): the realised summed q10-q90 width of every company after sampling."""
    options = options or {"predictive_replicates": 0, "compare_excluded": False}
    rng = np.random.default_rng(seed)
    companies = world.companies["company_id"].to_list()
    started = time.perf_counter()
    model = HeadcountModel(**options).fit(world.rated, world.samples, world.companies, annotators=world.annotators, seed=seed)
    widths = expected_widths(model, SamplingOptions(n_simulations=n_simulations, seed=seed))
    base = realised_width(world, world.samples, companies, seed, options)
    rows = [{"budget_usd": 0.0, "allocation": "none", "replicate": 0, "summed_width": base, "spent_usd": 0.0,
             "expected_summed_width": float(widths["width_now"].sum())}]
    for budget in budgets:
        plan = plan_sampling(widths, cost_per_employee, budget)
        allocation = dict(zip(plan["company_id"].to_list(), plan["planned_additional"].to_list()))
        width = realised_width(world, augment_samples(world, allocation, rng), companies, seed, options)
        rows.append({"budget_usd": budget, "allocation": "plan", "replicate": 0, "summed_width": width,
                     "spent_usd": float(plan["planned_cost_usd"].sum()),
                     "expected_summed_width": float(plan["expected_width_planned"].sum())})
        for r in range(n_random):
            allocation = random_allocation(widths, cost_per_employee, budget, seed=seed + 1000 + r)
            width = realised_width(world, augment_samples(world, allocation, rng), companies, seed, options)
            rows.append({"budget_usd": budget, "allocation": "random", "replicate": r, "summed_width": width,
                         "spent_usd": float(sum(allocation.values()) * cost_per_employee),
                         "expected_summed_width": None})
    out = pl.DataFrame(rows, schema={"budget_usd": pl.Float64, "allocation": pl.Utf8, "replicate": pl.Int64,
                                     "summed_width": pl.Float64, "spent_usd": pl.Float64,
                                     "expected_summed_width": pl.Float64})
    return out.with_columns(seconds=pl.lit(time.perf_counter() - started))


def reduction_ratio(results: pl.DataFrame) -> pl.DataFrame:
    """Per budget: width reduction by the plan, by random allocation (mean) and their ratio."""
    base = results.filter(pl.col("allocation") == "none")["summed_width"][0]
    return (results.filter(pl.col("allocation") != "none")
            .group_by("budget_usd", "allocation").agg(pl.col("summed_width").mean(), pl.col("spent_usd").mean())
            .pivot(on="allocation", index="budget_usd", values=["summed_width", "spent_usd"])
            .with_columns(reduction_plan=base - pl.col("summed_width_plan"),
                          reduction_random=base - pl.col("summed_width_random"))
            .with_columns(ratio=pl.col("reduction_plan") / pl.col("reduction_random"))
            .select("budget_usd", "summed_width_plan", "summed_width_random", "spent_usd_plan", "spent_usd_random",
                    "reduction_plan", "reduction_random", "ratio")
            .sort("budget_usd"))
