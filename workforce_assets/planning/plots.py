"""Figure of the sampling plan: summed expected interval width against budget, plan vs random allocation."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from workforce_assets.figures import write_figures


def budget_curve_figure(curve: pl.DataFrame) -> go.Figure:
    """``curve``: ``budget_usd``, ``expected_width_planned``, ``expected_width_random``."""
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=curve["budget_usd"].to_list(), y=curve["expected_width_planned"].to_list(),
                                mode="lines+markers", name="ranked plan"))
    figure.add_trace(go.Scatter(x=curve["budget_usd"].to_list(), y=curve["expected_width_random"].to_list(),
                                mode="lines+markers", name="random allocation (mean of 20)", line={"dash": "dash"}))
    figure.update_layout(title="Summed expected 80%-interval width of the selected companies against budget",
                         xaxis_title="budget (USD)", yaxis_title="summed expected q10-q90 width (experts)",
                         template="plotly_white")
    return figure


def write_budget_curve(directory: Path, curve: pl.DataFrame) -> dict[str, Path]:
    return write_figures(directory, {"budget_curve": ("sampling_plan_budget_curve.html", budget_curve_figure(curve))})
