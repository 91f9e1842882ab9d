"""Markdown tables for benchmark output (pasted into docs/validation.md and docs/benchmarks.md)."""

from __future__ import annotations

import polars as pl


def markdown(frame: pl.DataFrame) -> str:
    """Floats: 3 decimals below 10, thousands separators above; null and NaN print empty."""

    def cell(value):
        if isinstance(value, float):
            return "" if value != value else (f"{value:.3f}" if abs(value) < 10 else f"{value:,.0f}")
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * frame.width]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)
