"""plotly figures of the labor evaluations, written as HTML (linked from asset metadata).

Each figure reads the long evaluation tables (method, metric, value), so what is plotted is exactly what
the warehouse holds. Files share one ``plotly.min.js`` written beside them (offline viewing, small files).
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from workforce_assets.labor.existence import RECALL_CUTOFFS


def _values(frame: pl.DataFrame, method: str, metric: str) -> float | None:
    hit = frame.filter((pl.col("method") == method) & (pl.col("metric") == metric))
    return float(hit["value"][0]) if hit.height else None


def feature_importance_figure(archetype_eval: pl.DataFrame) -> go.Figure:
    """Share of LightGBM gain per feature (existence model, held-out evaluation fit)."""
    rows = archetype_eval.filter(pl.col("metric").str.starts_with("importance:")).with_columns(
        feature=pl.col("metric").str.replace("importance:", "", literal=True)
    ).sort("value")
    fig = go.Figure(go.Bar(x=rows["value"].to_list(), y=rows["feature"].to_list(), orientation="h"))
    fig.update_layout(title="Archetype existence: LightGBM feature importance (share of gain)",
                      xaxis_title="share of total gain", yaxis_title="feature", height=420)
    return fig


def recall_at_k_figure(archetype_eval: pl.DataFrame) -> go.Figure:
    """Recall@k of every method on hidden archetypes (20% of each company's observed ones)."""
    fig = go.Figure()
    drawn: dict[tuple, str] = {}  # curve -> first method drawn with it
    for method in archetype_eval["method"].unique(maintain_order=True).to_list():
        ks = [k for k in RECALL_CUTOFFS if _values(archetype_eval, method, f"recall@{k}") is not None]
        if not ks:
            continue
        values = [_values(archetype_eval, method, f"recall@{k}") for k in ks]
        curve = tuple(zip(ks, (round(v, 6) for v in values)))
        twin = drawn.setdefault(curve, method)
        # a curve equal to one already drawn would hide under it: dashed, and the legend says so
        name, line = (method, {}) if twin == method else (f"{method} (same as {twin})", {"dash": "dash", "width": 3})
        fig.add_trace(go.Scatter(x=ks, y=values, mode="lines+markers", name=name, line=line))
    fig.update_layout(title="Archetype existence: recall@k on held-out archetypes", xaxis_title="k (log scale)",
                      yaxis_title="recall@k", yaxis_range=[0, 1], height=420,
                      xaxis={"type": "log", "tickvals": list(RECALL_CUTOFFS), "ticktext": [str(k) for k in RECALL_CUTOFFS]})
    return fig


def salary_calibration_figure(salary_eval: pl.DataFrame) -> go.Figure:
    """Share of held-out wages below each predicted bound vs its nominal level, and 80% band coverage."""
    fig = go.Figure()
    nominal = [0.1, 0.5, 0.9]
    for method in salary_eval["method"].unique(maintain_order=True).to_list():
        empirical = [_values(salary_eval, method, f"share_below_q{int(q * 100)}") for q in nominal]
        if any(v is None for v in empirical):
            continue
        coverage = _values(salary_eval, method, "coverage80")
        fig.add_trace(go.Scatter(x=nominal, y=empirical, mode="lines+markers",
                                 name=f"{method} (80% band covers {coverage:.1%})"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
                             line={"dash": "dash", "color": "grey"}))
    fig.update_layout(title="Salary intervals on held-out employers: calibration of q10 / q50 / q90",
                      xaxis_title="nominal quantile", yaxis_title="share of held-out wages below",
                      xaxis_range=[0, 1], yaxis_range=[0, 1], height=420)
    return fig


def write_labor_figures(
    directory: str | Path, archetype_eval: pl.DataFrame | None = None, salary_eval: pl.DataFrame | None = None
) -> dict[str, Path]:
    """Write the figures that the given evaluations support; returns {figure name: HTML path}."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    figures: dict[str, go.Figure] = {}
    if archetype_eval is not None and archetype_eval.filter(pl.col("method") != "none").height:
        figures["labor_recall_at_k"] = recall_at_k_figure(archetype_eval)
        if archetype_eval.filter(pl.col("metric").str.starts_with("importance:")).height:
            figures["labor_feature_importance"] = feature_importance_figure(archetype_eval)
    if salary_eval is not None and salary_eval.filter(pl.col("method") != "none").height:
        figures["labor_salary_calibration"] = salary_calibration_figure(salary_eval)
    paths = {}
    for name, fig in figures.items():
        path = directory / f"{name}.html"
        fig.write_html(path, include_plotlyjs="directory", full_html=True)
        paths[name] = path
    return paths
