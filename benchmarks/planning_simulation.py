"""Does following the sampling plan shrink interval width more than random allocation of the same budget?

Plasmode worlds (real rated CVs split in half; employees' annotation patterns drawn from the held-out real
rows of their true class; three LLM annotators at 3 x $0.002 per employee): fit, plan, actually sample the
planned employees from the world, refit, sum the realised q10-q90 widths; random allocations of the same
budget go through the same steps (workforce_assets.planning.validation). Prints markdown for
docs/validation.md section 9 and writes the width-against-budget figure.

    .venv/bin/python benchmarks/planning_simulation.py [--worlds 3] [--companies 100] [--random 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.simulation import plasmode_world
from workforce_assets.planning.validation import plan_versus_random, reduction_ratio
from markdown_table import markdown  # benchmarks/markdown_table.py (the script's folder is on sys.path)

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "annotations"
LLMS = ["llm_gemini_2_5_flash", "llm_sonnet_4", "llm_gpt_5_mini"]
COST = 3 * 0.002


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worlds", type=int, default=3)
    parser.add_argument("--companies", type=int, default=100)
    parser.add_argument("--random", type=int, default=5)
    parser.add_argument("--budgets", type=float, nargs="+", default=[1.0, 3.0, 10.0, 30.0])
    parser.add_argument("--figure", type=Path, default=Path("docs/figures/planning_width_vs_budget.html"))
    args = parser.parse_args()
    frame = pl.read_csv(DATA / "validation_annotations.csv").drop("cv_text")
    source = frame.rename({c: canonical_annotator_name(c) for c in frame.columns if c not in ("cv_id", "is_ml_expert")})
    options = {"predictive_replicates": 0, "compare_excluded": False, "transport_policy": "off"}
    results, started = [], time.perf_counter()
    for w in range(args.worlds):
        world = plasmode_world(np.random.default_rng(100 + w), source, LLMS, n_companies=args.companies, zero_share=0.25,
                               prevalence_beta=(0.7, 3.0), headcount_range=(20, 5000), sample_size_range=(5, 60))
        result = plan_versus_random(world, args.budgets, COST, n_random=args.random, seed=w, options=options)
        results.append(result.with_columns(world=pl.lit(w)))
        print(f"world {w}: {time.perf_counter() - started:.0f} s", flush=True)
    results = pl.concat(results)
    results.write_parquet("/tmp/planning_simulation_results.parquet")
    ratios = pl.concat([reduction_ratio(results.filter(pl.col("world") == w)).with_columns(world=pl.lit(w))
                        for w in range(args.worlds)])
    print(f"\n{args.worlds} plasmode worlds x {args.companies} companies, {args.random} random allocations per budget, "
          f"${COST:.3f} per employee; {time.perf_counter() - started:.0f} s\n")
    print(markdown(ratios.group_by("budget_usd").agg(
        pl.col("summed_width_plan").mean().round(0), pl.col("summed_width_random").mean().round(0),
        pl.col("reduction_plan").mean().round(0), pl.col("reduction_random").mean().round(0),
        pl.col("ratio").mean().round(2).alias("ratio (mean over worlds)"),
        pl.col("ratio").min().round(2).alias("ratio (worst world)")).sort("budget_usd")))
    expected = results.filter(pl.col("allocation").is_in(["none", "plan"])).group_by("budget_usd").agg(
        pl.col("expected_summed_width").mean().round(0), pl.col("summed_width").mean().round(0).alias("realised")).sort("budget_usd")
    print("\nExpected (pre-posterior) against realised summed width, plan:\n")
    print(markdown(expected))
    curve = results.group_by("budget_usd", "allocation").agg(pl.col("summed_width").mean()).sort("budget_usd")
    import plotly.graph_objects as go

    figure = go.Figure()
    base = curve.filter(pl.col("allocation") == "none")
    for allocation, dash in (("plan", None), ("random", "dash")):
        part = pl.concat([base, curve.filter(pl.col("allocation") == allocation)]).sort("budget_usd")
        figure.add_trace(go.Scatter(x=part["budget_usd"].to_list(), y=part["summed_width"].to_list(),
                                    mode="lines+markers", name=allocation, line={"dash": dash}))
    figure.update_layout(title="Realised summed q10-q90 width against budget (plasmode, mean over worlds)",
                         xaxis_title="budget (USD)", yaxis_title="summed width (experts)", template="plotly_white")
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    figure.write_html(args.figure, include_plotlyjs="cdn")
    print(f"\nfigure: {args.figure}")


if __name__ == "__main__":
    main()
