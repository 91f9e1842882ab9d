"""What a company batch's posterior run costs when the joint fit is computed vs reused (headcount.joint_estimate).

Every batch's ``headcount/company_posteriors`` and the ``headcount_totals`` need the same joint fit over all
companies. The first run computes it and stores it under the fingerprint of its inputs; the others only
read the inputs, fingerprint them and load the stored fit. Builds a real DuckDB warehouse with the tables
those assets read (plasmode patterns from the real rated CVs, as in headcount_performance.py).

    .venv/bin/python benchmarks/headcount_joint_reuse.py                          # 10k companies, 1M employees
    .venv/bin/python benchmarks/headcount_joint_reuse.py --companies 1000 --employees 100000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from headcount_performance import build_inputs  # benchmarks/ is on sys.path when run as a script
from workforce_assets.pipeline.headcount_assets import PosteriorConfig, _estimate_all
from workforce_assets.pipeline.resources import WarehouseResource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--employees", type=int, default=1_000_000)
    parser.add_argument("--draws", type=int, default=1_000)
    args = parser.parse_args()
    world = build_inputs(args.companies, args.employees)
    with tempfile.TemporaryDirectory() as folder:
        warehouse = WarehouseResource(duckdb_path=str(Path(folder) / "warehouse.duckdb"))
        rated = world.rated.with_row_index("item_id").with_columns(pl.col("item_id").cast(pl.Utf8))
        samples = world.samples.with_columns(batch=pl.lit("b0"))
        warehouse.write("annotation.rated_cv_matrix", rated)
        warehouse.write("annotation.annotation_matrix", samples)
        warehouse.write("inputs.companies", world.companies)
        config = PosteriorConfig(n_draws=args.draws)
        timings = []
        for attempt in ("first run (computes and stores)", "second run (reuses)", "third run (reuses)"):
            started = time.perf_counter()
            _, _, _, _, _, reused = _estimate_all(warehouse, config)
            timings.append((attempt, time.perf_counter() - started, reused))
    print(f"{args.companies:,} companies, {args.employees:,} employees, {args.draws:,} draws\n")
    print("| run | seconds | reused |\n|---|---|---|")
    for attempt, seconds, reused in timings:
        print(f"| {attempt} | {seconds:.1f} | {reused} |")


if __name__ == "__main__":
    main()
