"""Where a `workforce-assets run` spent its time: every run in a Dagster instance with its wall time and its
steps' own durations (Dagster's step stats), longest first.

    DAGSTER_HOME=/path/to/home .venv/bin/python benchmarks/run_step_times.py [--top 12]

Use it after `workforce-assets run` with a fresh ``DAGSTER_HOME`` (docs/benchmarks.md, "The real data end to
end"). Reads the instance only.
"""

from __future__ import annotations

import argparse

import dagster as dg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    instance = dg.DagsterInstance.get()
    total = 0.0
    for run in reversed(instance.get_runs()):
        stats = [s for s in instance.get_run_step_stats(run.run_id) if s.start_time and s.end_time]
        run_stats = instance.get_run_stats(run.run_id)
        wall = (run_stats.end_time or 0.0) - (run_stats.start_time or 0.0)
        total += wall
        print(f"run {run.run_id[:8]} {run.job_name} {run.tags.get('dagster/partition', '')}: wall {wall:.1f} s, "
              f"steps {sum(s.end_time - s.start_time for s in stats):.1f} s")
        for s in sorted(stats, key=lambda s: s.start_time - s.end_time)[:args.top]:
            print(f"    {s.step_key:60s} {s.end_time - s.start_time:6.1f} s")
    print(f"sum of run walls: {total:.1f} s")


if __name__ == "__main__":
    main()
