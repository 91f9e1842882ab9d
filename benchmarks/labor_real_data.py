"""Real-data validation of the labor models on the US DOL files in ../shared/data/jobs (issue 5, sections 3-5).

    .venv/bin/python benchmarks/labor_real_data.py [--seeds 0 1 2] [--out /tmp/labor_real_data] [--roles soc|family]
    # only the salary evaluation, once per boosting setting (rounds:learning rate), with its time
    .venv/bin/python benchmarks/labor_real_data.py --seeds 0 1 --salary-settings 300:0.05 150:0.1 100:0.15

Reads all ten H-2A/H-2B disclosure files and the H-1B extract through the ingestion loader, builds the
archetype matrix (certified records only) and runs the held-out evaluations:
* archetype existence (20% of each company's archetypes hidden, companies with >= 2),
* salary (employer-held-out, conformal 80% band),
* headcount per (company, role, state) (company-held-out, H-2 worker counts),
once per seed. Roles (``--roles``): ``soc`` (default, what the pipeline does: the SOC occupations, titles
without a code placed by the title classifier, ``labor.roles.RoleModel``) or ``family`` (the 66 hand-written
role families that were the roles before issue 12: the "before" column of docs/validation.md section 8). Writes the long evaluation tables (parquet) and the plotly figures under --out, prints a
markdown summary (mean and spread over seeds) and one JSON line. Writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import polars as pl

from workforce_assets.ingestion.jobs import find_job_files, load_job_records
from workforce_assets.labor.existence import evaluate_existence
from workforce_assets.labor.headcount_model import evaluate_headcount
from workforce_assets.labor.matrix import build_archetype_matrix, model_records
from workforce_assets.labor.plots import write_labor_figures
from workforce_assets.labor.roles import RoleModel
from workforce_assets.labor.salary import evaluate_salary

REPO = Path(__file__).resolve().parent.parent
JOBS = REPO.parent / "shared" / "data" / "jobs"
HEADLINE = {
    "archetype": ("recall@10", "ndcg@10", "auc"),
    "salary": ("mae", "r2", "coverage80", "mape"),
    "headcount": ("mae", "wape"),
}


def summarise(frame: pl.DataFrame, metrics: tuple[str, ...]) -> pl.DataFrame:
    return (
        frame.filter(pl.col("metric").is_in(metrics))
        .group_by("method", "metric", maintain_order=True)
        .agg(mean=pl.col("value").mean(), min=pl.col("value").min(), max=pl.col("value").max(), n_seeds=pl.len())
    )


def markdown(summary: pl.DataFrame, digits: int = 3) -> str:
    metrics = summary["metric"].unique(maintain_order=True).to_list()
    lines = ["| method | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for method in summary["method"].unique(maintain_order=True).to_list():
        cells = []
        for metric in metrics:
            hit = summary.filter((pl.col("method") == method) & (pl.col("metric") == metric))
            if hit.height == 0:
                cells.append("")
                continue
            mean, lo, hi = hit["mean"][0], hit["min"][0], hit["max"][0]
            fmt = f"{{:,.{digits}f}}" if abs(mean) < 100 else "{:,.0f}"
            cells.append(fmt.format(mean) + (f" ({fmt.format(lo)}–{fmt.format(hi)})" if hit["n_seeds"][0] > 1 else ""))
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compare_salary_settings(jobs: pl.DataFrame, settings: list[str], seeds: list[int]) -> None:
    """Employer-held-out salary metrics of the LightGBM method for each (rounds, learning rate), per seed."""
    print("| rounds | learning rate | seed | seconds | MAE | R^2 | 80% coverage |\n|---|---|---|---|---|---|---|")
    for setting in settings:
        rounds, rate = setting.split(":")
        for seed in seeds:
            start = time.perf_counter()
            frame, _ = evaluate_salary(jobs, seed=seed, n_estimators=int(rounds), learning_rate=float(rate))
            seconds = time.perf_counter() - start
            metric = dict(frame.filter(pl.col("method") == "lightgbm").select("metric", "value").iter_rows())
            print(f"| {rounds} | {rate} | {seed} | {seconds:.1f} | {metric['mae']:,.0f} | {metric['r2']:.3f} | "
                  f"{metric['coverage80']:.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("/tmp/labor_real_data"))
    parser.add_argument("--jobs-dir", type=Path, default=JOBS)
    parser.add_argument("--roles", choices=("soc", "family"), default="soc")
    parser.add_argument("--salary-settings", nargs="+", metavar="ROUNDS:RATE",
                        help="compare salary boosting settings only (held-out metrics and seconds per setting and seed)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    start = time.perf_counter()
    files = find_job_files(args.jobs_dir)  # searches dol_h2/ too
    loaded = load_job_records(files)
    timings["load_s"] = time.perf_counter() - start
    start = time.perf_counter()
    jobs = RoleModel(use_title_classifier=args.roles == "soc").fit(loaded.rows).transform(loaded.rows)
    if args.roles == "family":
        jobs = jobs.with_columns(role=pl.col("role_family"))
    timings["roles_s"] = time.perf_counter() - start
    if args.salary_settings:
        compare_salary_settings(jobs, args.salary_settings, args.seeds)
        return
    _, record_stats = model_records(jobs)
    matrix = build_archetype_matrix(jobs)
    sizes = matrix.group_by("company_id").len()["len"]
    facts = {
        "n_files": len(files),
        "n_read": loaded.stats["n_read"],
        "n_loaded": loaded.stats["n_loaded"],
        "n_quarantined": loaded.stats["n_quarantined"],
        **{f"matrix_input_{k}": v for k, v in record_stats.items()},
        "roles": args.roles,
        "role_source": dict(jobs["role_source"].value_counts().iter_rows()),
        "n_roles": jobs["role"].n_unique(),
        "matrix_cells": matrix.height,
        "n_companies": matrix["company_id"].n_unique(),
        "n_archetypes": matrix["archetype"].n_unique(),
        "density": matrix.height / (matrix["company_id"].n_unique() * matrix["archetype"].n_unique()),
        "companies_with_2plus": int((sizes >= 2).sum()),
    }

    archetype, salary, headcount = [], [], []
    last_archetype = last_salary = None
    for seed in args.seeds:
        start = time.perf_counter()
        last_archetype = evaluate_existence(matrix, seed=seed)
        archetype.append(last_archetype)
        timings[f"archetype_seed{seed}_s"] = time.perf_counter() - start
        start = time.perf_counter()
        last_salary, _ = evaluate_salary(jobs, seed=seed, refit=False)
        salary.append(last_salary)
        timings[f"salary_seed{seed}_s"] = time.perf_counter() - start
        start = time.perf_counter()
        frame, _ = evaluate_headcount(jobs, seed=seed, refit=False)
        headcount.append(frame)
        timings[f"headcount_seed{seed}_s"] = time.perf_counter() - start

    tables = {"archetype_eval": pl.concat(archetype, how="diagonal"), "salary_eval": pl.concat(salary, how="diagonal"),
              "headcount_eval": pl.concat(headcount, how="diagonal")}
    for name, frame in tables.items():
        frame.write_parquet(args.out / f"{name}.parquet")
    figures = write_labor_figures(args.out, last_archetype, last_salary)

    print(f"## Real DOL data ({len(args.seeds)} seeds: {args.seeds}; mean (min–max))\n")
    print("### Archetype existence\n\n" + markdown(summarise(tables["archetype_eval"], HEADLINE["archetype"])) + "\n")
    importance = summarise(tables["archetype_eval"], tuple(
        m for m in tables["archetype_eval"]["metric"].unique().to_list() if m.startswith("importance:")))
    print("### Existence feature importance (share of gain)\n\n" + markdown(importance) + "\n")
    print("### Salary (held-out employers)\n\n" + markdown(summarise(tables["salary_eval"], HEADLINE["salary"])) + "\n")
    print("### Headcount (held-out companies)\n\n" + markdown(summarise(tables["headcount_eval"], HEADLINE["headcount"])) + "\n")
    context_cols = {
        "archetype": tables["archetype_eval"].select("n_eval_companies", "n_hidden").head(1).to_dicts(),
        "salary": tables["salary_eval"].select("n_rows", "n_employers", "n_test_rows", "n_test_employers").head(1).to_dicts(),
        "headcount": tables["headcount_eval"].select("n_cells", "n_companies", "n_test_cells", "n_test_companies").head(1).to_dicts(),
    }
    print(json.dumps({"benchmark": "labor_real_data", **facts, "context": context_cols,
                      **{k: round(v, 1) for k, v in timings.items()},
                      "figures": {k: str(v) for k, v in figures.items()}, "load_avg_1m": os.getloadavg()[0]},
                     default=str))


if __name__ == "__main__":
    main()
