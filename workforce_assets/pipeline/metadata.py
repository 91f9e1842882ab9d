"""Turning core results into Dagster metadata (counts, previews, links)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl


def stats_metadata(stats: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Scalars stay typed (so the UI plots them over time); lists and dicts become JSON."""
    out: dict[str, Any] = {}
    for key, value in stats.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            out[name] = dg.MetadataValue.bool(value)
        elif isinstance(value, int):
            out[name] = dg.MetadataValue.int(value)
        elif isinstance(value, float):
            out[name] = dg.MetadataValue.float(value)
        elif isinstance(value, str):
            out[name] = dg.MetadataValue.text(value)
        elif value is None:
            out[name] = dg.MetadataValue.text("")
        else:
            out[name] = dg.MetadataValue.json(_jsonable(value))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def frame_version(df: pl.DataFrame, sort_by: list[str]) -> dg.DataVersion:
    """A data version from a frame's content (rows sorted by ``sort_by``, as CSV text): assets whose output
    can change while their code and inputs do not (LLM answers) report it, so what reads them goes stale
    exactly when the output changed."""
    text = df.sort(sort_by, nulls_last=True).write_csv()
    return dg.DataVersion(hashlib.sha256(text.encode()).hexdigest()[:20])


def column_schema(df: pl.DataFrame) -> dg.TableSchema:
    """The frame's columns and types as Dagster's column schema (shown on the asset page)."""
    return dg.TableSchema(columns=[dg.TableColumn(name=name, type=str(dtype)) for name, dtype in df.schema.items()])


def table_metadata(df: pl.DataFrame, table: str, preview_rows: int = 10) -> dict[str, Any]:
    """Row count, the warehouse table name (also as ``dagster/table_name``), the column schema and a
    markdown preview with long text cut and floats rounded to 4 significant digits."""
    meta: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(df.height),
        "dagster/table_name": dg.MetadataValue.text(table),
        "dagster/column_schema": dg.MetadataValue.table_schema(column_schema(df)),
        "table": dg.MetadataValue.text(table),
    }
    if df.height:
        preview = df.head(preview_rows)
        for col, dtype in preview.schema.items():
            if dtype == pl.Utf8:
                preview = preview.with_columns(pl.col(col).str.slice(0, 60))
            elif dtype.is_float():
                preview = preview.with_columns(pl.col(col).round_sig_figs(4))
        meta["preview"] = dg.MetadataValue.md(markdown_table(preview))
    return meta


def markdown_table(df: pl.DataFrame) -> str:
    header = "| " + " | ".join(df.columns) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    rows = ["| " + " | ".join("" if v is None else str(v).replace("|", "/").replace("\n", " ") for v in row) + " |" for row in df.iter_rows()]
    return "\n".join([header, sep, *rows])


def file_links(paths: dict[str, Path], root: Path | None = None, base_url: str | None = None) -> dict[str, Any]:
    """Each file as a path, and, when ``root`` and ``base_url`` are given, as a URL under ``base_url`` (the
    reports folder served by `workforce-assets ui`): the link the asset page opens in the browser."""
    links: dict[str, Any] = {name: dg.MetadataValue.path(str(path)) for name, path in paths.items()}
    if root is not None and base_url:
        for name, path in paths.items():
            relative = Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
            links[f"{name} (open)"] = dg.MetadataValue.url(f"{base_url.rstrip('/')}/{relative}")
    return links


def report_dir(warehouse_path: Path, name: str) -> Path:
    """$WORKFORCE_REPORTS_DIR/<name>, else reports/<name> beside the warehouse's DuckDB file (created)."""
    from workforce_assets import settings

    path = settings.reports_dir(default_beside=Path(warehouse_path)) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_links(warehouse_path: Path, paths: dict[str, Path]) -> dict[str, Any]:
    """Paths, and URLs under the reports server of `workforce-assets ui`."""
    from workforce_assets import settings

    return file_links(paths, root=settings.reports_dir(default_beside=Path(warehouse_path)), base_url=settings.reports_url())
