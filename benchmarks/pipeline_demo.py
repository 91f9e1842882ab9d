"""Benchmark: the whole asset graph on the default simulated demo world, as `workforce-assets demo` runs it.

Run: .venv/bin/python benchmarks/pipeline_demo.py [--small]
Prints wall time per run phase and in total, and the slowest steps (from the Dagster instance).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ.update({"DAGSTER_HOME": str(root / "home"), "WORKFORCE_DUCKDB_PATH": str(root / "w.duckdb")})
        for key in ("GEMINI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
            os.environ.pop(key, None)
        from workforce_assets.demo import DemoConfig, generate_demo_world
        from workforce_assets.pipeline.runner import ensure_instance, materialize

        start = time.perf_counter()
        generate_demo_world(root / "demo", DemoConfig.small() if args.small else DemoConfig())
        generated = time.perf_counter() - start
        instance = ensure_instance(root / "home")
        report = materialize(root / "demo", duckdb_path=root / "w.duckdb", instance=instance, log=lambda *_: None)
        total = time.perf_counter() - start
        steps = []
        for run in report.runs:
            for stat in instance.get_run_step_stats(run["run_id"]):
                if stat.start_time and stat.end_time:
                    steps.append((stat.end_time - stat.start_time, stat.step_key, run["partition"]))
        print(f"world: {'small' if args.small else 'default'}; generation {generated:.1f} s; "
              f"{len(report.runs)} runs, {len(report.failed)} failed; total {total:.1f} s; "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
        for seconds, step, partition in sorted(steps, reverse=True)[:10]:
            print(f"  {seconds:6.1f} s  {step}" + (f" [{partition}]" if partition else ""))


if __name__ == "__main__":
    main()
