"""Progress lines for long work: done / total, rate, time left, about every 10 s, through standard logging.

The cores log with :mod:`logging`; Dagster routes these records into the run's event log
(``python_logs: managed_python_loggers`` in dagster.yaml), so the same lines appear in the UI, the CLI and a
notebook. Hand-written: tqdm writes to a terminal, not to a logger, and its rate/ETA text is not a log line.
"""

from __future__ import annotations

import logging
import time


class Progress:
    """``Progress("embedding texts", total, logger).update(done)``: logs at most every ``every_s`` seconds,
    and always when ``done`` reaches ``total``; ``note`` adds a tail (e.g. dollars spent)."""

    def __init__(self, what: str, total: int, logger: logging.Logger, every_s: float = 10.0, unit: str = ""):
        self.what, self.total, self.logger, self.every_s, self.unit = what, int(total), logger, every_s, unit
        self.started = time.perf_counter()
        self.last = self.started
        self.done = 0

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        now = time.perf_counter()
        if done < self.total and now - self.last < self.every_s:
            return
        self.last = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else float("inf")
        left = (self.total - done) / rate if rate > 0 else float("nan")
        unit = f" {self.unit}" if self.unit else ""
        self.logger.info("%s: %d / %d%s done, %.2f%s per s, about %.0f s left%s", self.what, done, self.total, unit,
                         rate, unit, left, f", {note}" if note else "")

    def advance(self, n: int = 1, note: str = "") -> None:
        self.update(self.done + n, note)
