"""Benchmark: time to generate the demo world (default and small), and the realised calibration.

Run: .venv/bin/python benchmarks/demo_generation.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from workforce_assets.demo import DemoConfig, generate_demo_world


def best_of(config: DemoConfig, repeats: int = 3) -> tuple[float, dict]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            start = time.perf_counter()
            summary = generate_demo_world(Path(tmp), config)
            times.append(time.perf_counter() - start)
        truth = json.loads((Path(tmp) / "truth" / "annotators.json").read_text())
    return min(times), {"rows": summary.row_counts, "filters": truth["keyword_filters"]["realised_on_rated_cvs"]}


if __name__ == "__main__":
    for name, config in (("small", DemoConfig.small()), ("default", DemoConfig())):
        seconds, info = best_of(config)
        print(f"{name}: {seconds:.2f} s (best of 3); profiles={sum(n for k, n in info['rows'].items() if k.startswith('profiles/'))}")
        print(json.dumps(info["filters"], indent=1))
