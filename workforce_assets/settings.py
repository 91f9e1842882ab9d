"""Where things live: input directory, DuckDB file and Dagster instance, each overridable by environment.

Pure module (no Dagster import) so the core, the CLI and the Dagster layer agree on one set of paths.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment variables that users set.
ENV_INPUT_DIR = "WORKFORCE_INPUT_DIR"
ENV_DUCKDB_PATH = "WORKFORCE_DUCKDB_PATH"
ENV_DAGSTER_HOME = "DAGSTER_HOME"
ENV_REPORTS_DIR = "WORKFORCE_REPORTS_DIR"


def data_dir() -> Path:
    return REPO_ROOT / "data"


def default_demo_dir() -> Path:
    """Where `workforce-assets demo` writes the generated (simulated) demo world."""
    return data_dir() / "demo_world"


def input_dir() -> Path:
    """The input directory of the contract (docs/data_formats.md): env override, else the demo world."""
    return Path(os.environ.get(ENV_INPUT_DIR) or default_demo_dir()).resolve()


def duckdb_path() -> Path:
    return Path(os.environ.get(ENV_DUCKDB_PATH) or data_dir() / "warehouse.duckdb").resolve()


def dagster_home() -> Path:
    return Path(os.environ.get(ENV_DAGSTER_HOME) or REPO_ROOT / ".dagster_home").resolve()


def reports_dir() -> Path:
    """HTML reports (plotly) linked from asset metadata; defaults next to the DuckDB file."""
    env = os.environ.get(ENV_REPORTS_DIR)
    return Path(env).resolve() if env else duckdb_path().parent / "reports"
