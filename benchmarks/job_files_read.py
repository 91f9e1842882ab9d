"""Loading the real DOL job files one at a time against two at a time (``jobs.READ_THREADS``).

    .venv/bin/python benchmarks/job_files_read.py [--repeats 3]

Reads every file under ../shared/data/jobs through ``load_job_records`` with 1 and with 2 reader threads
(calamine and polars parse outside the GIL), checks the results are equal, prints the best of ``repeats``
for each and one JSON line. Writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from workforce_assets.ingestion import jobs

JOBS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "jobs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    files = jobs.find_job_files(JOBS)
    best, results = {}, {}
    for threads in (1, 2):
        jobs.READ_THREADS = threads
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            results[threads] = jobs.load_job_records(files)
            times.append(time.perf_counter() - started)
        best[threads] = min(times)
    assert results[1].rows.equals(results[2].rows) and results[1].stats == results[2].stats
    print(f"{len(files)} files, {results[2].stats['n_read']:,} rows: one at a time {best[1]:.2f} s, "
          f"two at a time {best[2]:.2f} s")
    print(json.dumps({"benchmark": "job_files_read", "files": len(files), "one_thread_s": round(best[1], 2),
                      "two_threads_s": round(best[2], 2), "load_avg_1m": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
