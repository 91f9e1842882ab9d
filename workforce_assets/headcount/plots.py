"""Plotly figures for headcount results, written as HTML files the Dagster layer links from asset metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import polars as pl

from workforce_assets.headcount.calibration import LEVELS


#: Where a zero lands on the log axis of the company-estimates figure (counts span 0 to thousands).
ZERO_ON_LOG_AXIS = 0.5


def company_estimates_figure(summary: pl.DataFrame, max_companies: int = 60) -> go.Figure:
    """Posterior mean with 80% and 90% intervals per company (largest means first, at most ``max_companies``).

    The axis is logarithmic (a linear one piled most companies at 0 beside a few large ones); zeros are
    drawn at 0.5, which the axis title says. Grey marks companies without a sampled employee (prior
    predictive), and the title mentions grey only when there is one.
    """
    table = summary.sort("mean", descending=True).head(max_companies).reverse()
    table = table.with_columns([pl.col(c).cast(pl.Float64).clip(lower_bound=ZERO_ON_LOG_AXIS).alias(c)
                                for c in ("mean", "q05", "q10", "q90", "q95")])
    names = table["company_id"].to_list()
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=table["q95"], y=names, mode="markers", marker={"symbol": "line-ns-open", "size": 10}, name="q95",
        showlegend=False, hoverinfo="skip"))
    figure.add_trace(go.Scatter(
        x=table["mean"], y=names, mode="markers", name="posterior mean (80% and 90% intervals)",
        error_x={"type": "data", "symmetric": False, "array": (table["q90"] - table["mean"]).to_numpy(),
                 "arrayminus": (table["mean"] - table["q10"]).to_numpy(), "thickness": 2},
        marker={"color": np.where(table["prior_only"].to_numpy(), "lightgray", "#1f77b4")},
        customdata=np.column_stack([table["q05"], table["q95"], table["n_sampled"], table["headcount"]]),
        hovertemplate="%{y}: mean %{x:.0f}, 90%% interval %{customdata[0]:.0f}-%{customdata[1]:.0f}, "
                      "%{customdata[2]} of %{customdata[3]} sampled<extra></extra>",
    ))
    figure.add_trace(go.Scatter(
        x=table["q05"], y=names, mode="markers", marker={"symbol": "line-ns-open", "size": 10}, name="q05",
        showlegend=False, hoverinfo="skip"))
    grey = bool(table["prior_only"].any())
    figure.update_layout(
        title="ML experts per company" + (" (grey: no sampled employee, prior predictive)" if grey else ""),
        xaxis={"title": f"ML experts (whole company), log scale; 0 is drawn at {ZERO_ON_LOG_AXIS}", "type": "log"},
        height=max(400, 18 * len(names)))
    return figure


def talent_landscape_figure(summary: pl.DataFrame) -> go.Figure:
    """Headcount against ML share; marker size grows with the expected number of experts."""
    size = np.sqrt(np.maximum(summary["mean"].to_numpy(), 0.0))
    size = 6 + 30 * size / max(size.max(), 1e-9)
    figure = go.Figure(go.Scatter(
        x=summary["headcount"], y=summary["ml_share"], mode="markers", text=summary["company_id"],
        marker={"size": size, "color": np.where(summary["prior_only"].to_numpy(), "lightgray", "#d62728"),
                "opacity": 0.7},
        hovertemplate="%{text}: headcount %{x}, ML share %{y:.1%}<extra></extra>",
    ))
    figure.update_layout(title="Talent landscape", xaxis={"title": "headcount", "type": "log"},
                         yaxis={"title": "ML share (posterior mean / headcount)", "tickformat": ".0%"})
    return figure


def annotator_figure(parameters: pl.DataFrame) -> go.Figure:
    """Each annotator's sensitivity against specificity, with their Wilson intervals."""
    figure = go.Figure(go.Scatter(
        x=parameters["specificity"], y=parameters["sensitivity"], mode="markers+text",
        text=parameters["annotator"], textposition="top center",
        error_x={"type": "data", "symmetric": False,
                 "array": (parameters["specificity_upper"] - parameters["specificity"]).to_numpy(),
                 "arrayminus": (parameters["specificity"] - parameters["specificity_lower"]).to_numpy()},
        error_y={"type": "data", "symmetric": False,
                 "array": (parameters["sensitivity_upper"] - parameters["sensitivity"]).to_numpy(),
                 "arrayminus": (parameters["sensitivity"] - parameters["sensitivity_lower"]).to_numpy()},
    ))
    # labels above points near 1 were cut off: room above the axis, and labels below points high up
    positions = np.where(parameters["sensitivity"].to_numpy() > 0.9, "bottom center", "top center")
    figure.update_traces(textposition=positions)
    figure.update_layout(title="Annotators: sensitivity vs specificity (rated CVs, Wilson intervals)",
                         xaxis={"title": "specificity", "range": [-0.02, 1.08]},
                         yaxis={"title": "sensitivity", "range": [-0.02, 1.1]}, margin={"t": 80, "r": 40})
    return figure


def coverage_by_level_figure(calibration: pl.DataFrame) -> go.Figure:
    """Achieved against nominal coverage of the 50/80/90% intervals, per estimator (calibration results)."""
    figure = go.Figure(go.Scatter(x=[0.4, 1.0], y=[0.4, 1.0], mode="lines", line={"dash": "dot", "color": "gray"},
                                  name="nominal"))
    for (name,), group in calibration.group_by("estimator", maintain_order=True):
        achieved = []
        for level in LEVELS:
            tag = int(level * 100)
            rows = group.filter(pl.col(f"lower{tag}").is_not_nan())
            inside = (rows[f"lower{tag}"] <= rows["true_count"]) & (rows["true_count"] <= rows[f"upper{tag}"])
            achieved.append(float(inside.mean()) if rows.height else None)
        if any(a is not None for a in achieved):
            figure.add_trace(go.Scatter(x=list(LEVELS), y=achieved, mode="lines+markers", name=name))
    figure.update_layout(title="Coverage of company-count intervals (plasmode)", xaxis_title="nominal level",
                         yaxis_title="share of companies whose true count is inside")
    return figure


def write_figures(
    directory: Path | str,
    summary: pl.DataFrame | None = None,
    parameters: pl.DataFrame | None = None,
    calibration: pl.DataFrame | None = None,
    include_plotlyjs: bool | str = "cdn",
) -> dict[str, Path]:
    """Write the figures whose inputs are given as HTML into ``directory``; returns name -> path.

    summary: ``HeadcountEstimate.summary``; parameters: ``annotator_parameters(...)``; calibration: the
    per-company results of the calibration harness. ``include_plotlyjs=True`` embeds plotly.js (works
    offline, ~3.5 MB per file); the default loads it from a CDN.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    figures = {}
    if summary is not None:
        figures["company_estimates"] = company_estimates_figure(summary)
        figures["talent_landscape"] = talent_landscape_figure(summary)
    if parameters is not None:
        figures["annotators"] = annotator_figure(parameters)
    if calibration is not None:
        figures["coverage_by_level"] = coverage_by_level_figure(calibration)
    paths = {}
    for name, figure in figures.items():
        path = directory / f"headcount_{name}.html"
        figure.write_html(path, include_plotlyjs=include_plotlyjs)
        paths[name] = path
    return paths
