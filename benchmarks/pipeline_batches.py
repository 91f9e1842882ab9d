"""Benchmark: per-batch orchestration overhead of `workforce-assets run` (issue 14: <= 1 s per batch run).

    .venv/bin/python benchmarks/pipeline_batches.py [--batches 20] [--companies-per-batch 5]
    # issue 14's world: 100 batches, 10,000 companies, ~1M sampled employees, labels imported
    .venv/bin/python benchmarks/pipeline_batches.py --batches 100 --companies-per-batch 100 \
        --max-sample-per-company 500 --rated-cvs 600 --job-records 20000 --employers 2000

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
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--companies-per-batch", type=int, default=5)
    parser.add_argument("--max-sample-per-company", type=int, default=20)
    parser.add_argument("--rated-cvs", type=int, default=150)
    parser.add_argument("--job-records", type=int, default=600)
    parser.add_argument("--employers", type=int, default=60)
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

        started = time.perf_counter()
        world = generate_demo_world(root / "demo", DemoConfig(
            n_companies=args.batches * args.companies_per_batch, n_rated_cvs=args.rated_cvs,
            n_job_records=args.job_records, n_employers=args.employers, n_batches=args.batches,
            max_sample_per_company=args.max_sample_per_company))
        print(f"world: {args.batches * args.companies_per_batch} companies, {world.n_profiles} sampled employees, "
              f"generated in {time.perf_counter() - started:.1f} s", flush=True)
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
                                    log=lambda message, *_: print(f"[{time.perf_counter() - started:7.1f} s] {message}",
                                                                  file=sys.stderr, flush=True))
        total = time.perf_counter() - started
        per_phase: dict[str, list[tuple[float, float]]] = {}
        per_step: dict[str, float] = {}
        for run in report.runs:
            stats = [s for s in instance.get_run_step_stats(run["run_id"]) if s.start_time and s.end_time]
            for s in stats:
                per_step[s.step_key] = per_step.get(s.step_key, 0.0) + s.end_time - s.start_time
            steps = sum(s.end_time - s.start_time for s in stats)
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
        print("| step (summed over runs) | seconds |\n|---|---|")
        for key, seconds in sorted(per_step.items(), key=lambda kv: -kv[1])[:15]:
            print(f"| {key} | {seconds:.1f} |")
        n_batch_runs = sum(1 for r in report.runs if r["partition"] or r.get("partition_range"))
        print(json.dumps({"benchmark": "pipeline_batches", "batches": args.batches,
                          "companies": args.batches * args.companies_per_batch, "employees": world.n_profiles,
                          "runs": len(report.runs),
                          "batch_runs": n_batch_runs, "total_s": round(total, 1),
                          "median_batch_run_overhead_s": round(statistics.median(batch_overheads), 2),
                          "batch_run_overhead_per_batch_s": round(sum(batch_overheads) / args.batches, 2),
                          "dagster": dg.__version__, "load_avg_1m": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
