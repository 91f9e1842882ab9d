"""The value every loader returns: loaded rows, quarantined rows with reasons, and counts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

QUARANTINE_SCHEMA = {"source": pl.Utf8, "row_number": pl.Int64, "reason": pl.Utf8, "raw": pl.Utf8}


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def quarantine_rows(source: str, row_numbers, reasons, raws) -> pl.DataFrame:
    """Build quarantine rows; ``raws`` are dicts (serialised to JSON) or strings."""
    raw_text = [r if isinstance(r, str) else json.dumps(r, default=str, ensure_ascii=False) for r in raws]
    return pl.DataFrame(
        {"source": [source] * len(raw_text), "row_number": list(row_numbers), "reason": list(reasons), "raw": raw_text},
        schema=QUARANTINE_SCHEMA,
    )


@dataclass
class LoadResult:
    """Rows that loaded, rows that did not (with a reason each), and counts for asset metadata.

    Invariant: ``stats['n_read'] == stats['n_loaded'] + stats['n_quarantined']``.
    """

    rows: pl.DataFrame
    quarantine: pl.DataFrame = field(default_factory=empty_quarantine)
    stats: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stats.setdefault("n_loaded", self.rows.height)
        self.stats.setdefault("n_quarantined", self.quarantine.height)
        self.stats.setdefault("n_read", self.stats["n_loaded"] + self.stats["n_quarantined"])
