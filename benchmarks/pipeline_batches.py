"""Benchmark: per-batch orchestration overhead of `workforce-assets run` (issue 14: <= 1 s per batch run).

    .venv/bin/python benchmarks/pipeline_batches.py [--batches 20] [--companies-per-batch 5]

A demo world of many small batches (few companies and rated CVs, so the steps themselves are cheap) is run
the way `workforce-assets run` runs it (one Dagster run per batch for its batch phase; one run over every
batch for the company posteriors, a single-run backfill). For every run: its wall time
(runner side, around `execute_in_process`), the sum of its steps' own durations (Dagster's step stats), and
the difference: the orchestration overhead (building the run, event log writes, pool slot claims, the
up-to-date check). Prints per-phase medians and one JSON line; writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--companies-per-batch", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ.update({"DAGSTER_HOME": str(root / "home"), "WORKFORCE_DUCKDB_PATH": str(root / "w.duckdb"),
                           "WORKFORCE_POSTERIOR_DRAWS": "200"})
        for key in ("GEMINI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
            os.environ.pop(key, None)
        import dagster as dg

        from workforce_assets.demo import DemoConfig, generate_demo_world
        from workforce_assets.pipeline import runner

        generate_demo_world(root / "demo", DemoConfig(
            n_companies=args.batches * args.companies_per_batch, n_rated_cvs=150, n_job_records=600,
            n_employers=60, n_batches=args.batches, max_sample_per_company=20))
        instance = runner.ensure_instance(root / "home")
        walls: dict[str, float] = {}
        original = runner._execute_interruptibly

        def timed(job, inst, log, **kwargs):  # the runner's own call, timed from outside
            started = time.perf_counter()
            result = original(job, inst, log, **kwargs)
            walls[result.run_id] = time.perf_counter() - started
            return result

        runner._execute_interruptibly = timed
        started = time.perf_counter()
        report = runner.materialize(root / "demo", duckdb_path=root / "w.duckdb", instance=instance,
                                    log=lambda *_: None)
        total = time.perf_counter() - started
        per_phase: dict[str, list[tuple[float, float]]] = {}
        for run in report.runs:
            steps = sum(s.end_time - s.start_time for s in instance.get_run_step_stats(run["run_id"])
                        if s.start_time and s.end_time)
            wall = walls.get(run["run_id"])
            if wall is None:
                continue
            kind = "batch" if run["partition"] or run.get("partition_range") else "shared"
            per_phase.setdefault(f"phase {run['phase']} ({kind})", []).append((wall, wall - steps))
        batch_overheads = [o for name, rows in per_phase.items() if "batch" in name for _, o in rows]
        print(f"{args.batches} batches, {len(report.runs)} runs, {len(report.failed)} failed, total {total:.1f} s")
        print("| phase | runs | median wall (s) | median overhead (s) |\n|---|---|---|---|")
        for name, rows in sorted(per_phase.items()):
            print(f"| {name} | {len(rows)} | {statistics.median(w for w, _ in rows):.2f} | "
                  f"{statistics.median(o for _, o in rows):.2f} |")
        n_batch_runs = sum(1 for r in report.runs if r["partition"] or r.get("partition_range"))
        print(json.dumps({"benchmark": "pipeline_batches", "batches": args.batches, "runs": len(report.runs),
                          "batch_runs": n_batch_runs, "total_s": round(total, 1),
                          "median_batch_run_overhead_s": round(statistics.median(batch_overheads), 2),
                          "batch_run_overhead_per_batch_s": round(sum(batch_overheads) / args.batches, 2),
                          "dagster": dg.__version__, "load_avg_1m": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
