"""The map of profiles: a 2-D projection of the embeddings, coloured by cluster, hover shows the label."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from workforce_assets.figures import write_figures


def cluster_map_figure(members: pl.DataFrame, max_points: int = 20_000) -> go.Figure:
    """``members``: ``text_id``, ``source``, ``company_id``, ``cluster_id``, ``label``, ``x``, ``y``. Above
    ``max_points`` an evenly spaced subset is drawn (the figure says so)."""
    points = members.filter(pl.col("x").is_not_null())
    title = f"Profiles and rated CVs by cluster ({points.height:,} texts)"
    if points.height > max_points:
        points = points.gather_every(points.height // max_points + 1)
        title += f", {points.height:,} drawn"
    figure = go.Figure()
    for (cluster, label), group in points.sort("cluster_id").group_by(["cluster_id", "label"], maintain_order=True):
        hover = [f"{label}<br>{source} {text_id}" + (f" ({company})" if company else "")
                 for source, text_id, company in zip(group["source"], group["text_id"], group["company_id"])]
        figure.add_trace(go.Scattergl(
            x=group["x"].to_list(), y=group["y"].to_list(), mode="markers", name=f"{cluster}: {label}",
            marker={"size": 5, "opacity": 0.7, "symbol": ["diamond" if s == "rated_cv" else "circle" for s in group["source"]]},
            text=hover, hoverinfo="text"))
    figure.update_layout(title=title, xaxis_title="t-SNE 1", yaxis_title="t-SNE 2", legend_title="cluster",
                         template="plotly_white")
    return figure


def write_cluster_map(directory: Path, members: pl.DataFrame) -> dict[str, Path]:
    return write_figures(directory, {"cluster_map": ("profile_clusters_map.html", cluster_map_figure(members))})
