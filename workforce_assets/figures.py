"""Writing plotly figures as offline HTML pages (one plotly.min.js beside them)."""

from __future__ import annotations

from pathlib import Path


def write_figures(directory: Path, figures: dict) -> dict[str, Path]:
    """``figures``: name -> (file name, plotly figure). Returns name -> path written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (file_name, figure) in figures.items():
        paths[name] = directory / file_name
        figure.write_html(paths[name], include_plotlyjs="directory")
    return paths
