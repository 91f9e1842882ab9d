"""Shared LightGBM setting: how many threads a fit should use.

Why: on this shared 2-core machine a LightGBM fit on a few thousand rows spends its time synchronising
OpenMP threads (measured: a salary evaluation on 6,000 rows took 38 s with 2 threads, 1.6 s with 1;
on 80,000 rows 2 threads were faster, 4.8 s vs 7.0 s). Small fits therefore run single-threaded.
"""

from __future__ import annotations

SMALL_FIT_ROWS = 20_000


def threads_for(n_rows: int, requested: int) -> int:
    """``requested`` threads (at least 1), or 1 when the fit has fewer than :data:`SMALL_FIT_ROWS` rows."""
    return 1 if n_rows < SMALL_FIT_ROWS else max(1, int(requested))
