"""Warehouse backends: latency of one read and one partition replace, DuckDB file vs DuckLake, and what
opening a lake engine costs (the per-process cache in ``warehouse._connect_lake`` pays it once).

    PYTHONPATH=. .venv/bin/python benchmarks/warehouse_backends.py [--repeat 20] [--postgres]

``--postgres`` also measures DuckLake on a throwaway local Postgres cluster (needs Debian's postgresql
binaries; as root they run as the ``postgres`` user). Writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from workforce_assets import warehouse


def _median_s(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(target, repeat: int) -> dict:
    frame = pl.DataFrame({"batch": ["a"] * 1000, "v": range(1000)})
    warehouse.write_table(target, "bench.t", frame)
    out = {
        "read_s": _median_s(lambda: warehouse.read_table(target, "bench.t"), repeat),
        "partition_replace_s": _median_s(lambda: warehouse.write_table(target, "bench.t", frame, "batch", "a"), repeat),
    }
    if isinstance(target, warehouse.DuckLake):  # what every call paid before the per-process engine
        out["open_engine_s"] = _median_s(lambda: warehouse._open_lake(target, 10.0).close(), max(3, repeat // 4))
    return {k: round(v, 4) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        root = Path(folder)
        targets = {"duckdb_file": root / "w.duckdb",
                   "ducklake_sqlite": warehouse.DuckLake(f"sqlite:{root / 'catalog.sqlite'}", str(root / "lake"))}
        if args.postgres:
            from workforce_assets_tests.postgres_cluster import throwaway_postgres

            pg = stack.enter_context(throwaway_postgres(databases=("lake",)))
            targets["ducklake_postgres"] = warehouse.DuckLake(f"postgres:{pg.libpq('lake')}", str(root / "lake_pg"))
        for name, target in targets.items():
            print(json.dumps({"backend": name, **measure(target, args.repeat)}))


if __name__ == "__main__":
    main()
