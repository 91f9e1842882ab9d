"""Shared LightGBM settings: how many threads a fit should use, and progress lines while it trains.

Why: on this shared 2-core machine a LightGBM fit on a few thousand rows spends its time synchronising
OpenMP threads (measured: a salary evaluation on 6,000 rows took 38 s with 2 threads, 1.6 s with 1;
on 80,000 rows 2 threads were faster, 4.8 s vs 7.0 s). Small fits therefore run single-threaded.
"""

from __future__ import annotations

import logging

from workforce_assets.progress import Progress

SMALL_FIT_ROWS = 20_000
#: With ``deterministic`` LightGBM still picks row- or column-wise histograms by timing a trial on each fit, so
#: the same data and seed gave different models on a busy machine (the scale-out test caught a headcount
#: evaluation differing by 3% between two runs). Forcing one layout makes every fit reproducible.
REPRODUCIBLE = {"force_row_wise": True}
logger = logging.getLogger(__name__)


def threads_for(n_rows: int, requested: int) -> int:
    """``requested`` threads (at least 1), or 1 when the fit has fewer than :data:`SMALL_FIT_ROWS` rows."""
    return 1 if n_rows < SMALL_FIT_ROWS else max(1, int(requested))


def progress_callback(what: str, n_rounds: int):
    """A LightGBM callback logging boosting rounds done / total, rate and time left (about every 10 s)."""
    progress = Progress(what, n_rounds, logger, unit="rounds")

    def _callback(env) -> None:
        progress.update(env.iteration - env.begin_iteration + 1)

    _callback.order = 50  # after LightGBM's own callbacks
    return _callback
