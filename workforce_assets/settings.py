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


#: Warehouse backend (issue 14): the DuckDB file (default) or DuckLake; outside checks use these names.
ENV_WAREHOUSE = "WORKFORCE_WAREHOUSE"
ENV_DUCKLAKE_CATALOG = "WORKFORCE_DUCKLAKE_CATALOG"
ENV_DUCKLAKE_DATA_PATH = "WORKFORCE_DUCKLAKE_DATA_PATH"
WAREHOUSE_BACKENDS = ("duckdb", "ducklake")


def warehouse_settings() -> dict:
    """``backend`` ('duckdb' or 'ducklake') and, for DuckLake, ``ducklake_catalog`` (what follows ``ducklake:``
    in DuckDB's ATTACH) and ``ducklake_data_path`` (where the Parquet files go). A half-configured lake is an
    error here, before any run starts."""
    backend = (os.environ.get(ENV_WAREHOUSE) or "duckdb").strip().lower()
    if backend not in WAREHOUSE_BACKENDS:
        raise ValueError(f"{ENV_WAREHOUSE} must be one of {WAREHOUSE_BACKENDS}, got {backend!r}")
    if backend == "duckdb":
        return {"backend": "duckdb"}
    catalog = (os.environ.get(ENV_DUCKLAKE_CATALOG) or "").strip()
    data_path = (os.environ.get(ENV_DUCKLAKE_DATA_PATH) or "").strip()
    missing = [name for name, value in ((ENV_DUCKLAKE_CATALOG, catalog), (ENV_DUCKLAKE_DATA_PATH, data_path)) if not value]
    if missing:
        raise ValueError(f"{ENV_WAREHOUSE}=ducklake needs {' and '.join(missing)} (see docs/deployment.md)")
    return {"backend": "ducklake", "ducklake_catalog": catalog, "ducklake_data_path": data_path}


def dagster_home() -> Path:
    return Path(os.environ.get(ENV_DAGSTER_HOME) or REPO_ROOT / ".dagster_home").resolve()


def reports_dir(default_beside: Path | None = None) -> Path:
    """HTML reports (plotly) linked from asset metadata; defaults next to the DuckDB file (``default_beside``,
    else the configured one)."""
    env = os.environ.get(ENV_REPORTS_DIR)
    return Path(env).resolve() if env else Path(default_beside or duckdb_path()).parent / "reports"


ENV_REPORTS_PORT = "WORKFORCE_REPORTS_PORT"


def reports_url() -> str:
    """Base URL under which `workforce-assets ui` serves the reports folder (127.0.0.1 only), so the report
    links on asset pages open in the browser (a file:// link does not open from an http page)."""
    return f"http://127.0.0.1:{int(os.environ.get(ENV_REPORTS_PORT) or 3001)}"


#: Headcount estimator settings (read when an asset runs, never at import time).
ENV_POSTERIOR_DRAWS = "WORKFORCE_POSTERIOR_DRAWS"
ENV_TRANSPORT_POLICY = "WORKFORCE_TRANSPORT_POLICY"
TRANSPORT_POLICIES = ("exclude", "warn")


def posterior_draws() -> int:
    """Posterior draws stored per company (default 1000)."""
    value = int(os.environ.get(ENV_POSTERIOR_DRAWS) or 1000)
    if value < 1:
        raise ValueError(f"{ENV_POSTERIOR_DRAWS} must be >= 1, got {value}")
    return value


def transport_policy() -> str:
    """What to do with an annotator that fails the transport check: 'exclude' (default) or 'warn'."""
    value = (os.environ.get(ENV_TRANSPORT_POLICY) or "exclude").strip().lower()
    if value not in TRANSPORT_POLICIES:
        raise ValueError(f"{ENV_TRANSPORT_POLICY} must be one of {TRANSPORT_POLICIES}, got {value!r}")
    return value


#: Annotation settings (LLM annotators, embeddings), read when a resource is built, never at import time.
ENV_LLM_ANNOTATORS = "WORKFORCE_LLM_ANNOTATORS"
ENV_LLM_BUDGET_USD = "WORKFORCE_LLM_BUDGET_USD"
ENV_LLM_CONCURRENCY = "WORKFORCE_LLM_CONCURRENCY"
ENV_LLM_API_BASE = "WORKFORCE_LLM_API_BASE"
ENV_LLM_DEADLINE_S = "WORKFORCE_LLM_DEADLINE_S"
ENV_LLM_MODE = "WORKFORCE_LLM_MODE"
ENV_LLM_BATCH_POLL_S = "WORKFORCE_LLM_BATCH_POLL_S"
ENV_LLM_BATCH_DEADLINE_S = "WORKFORCE_LLM_BATCH_DEADLINE_S"
LLM_MODES = ("online", "batch")
ENV_EMBEDDINGS_BACKEND = "WORKFORCE_EMBEDDINGS_BACKEND"
ENV_MODAL_APP = "WORKFORCE_MODAL_APP"
ENV_MODAL_MODEL = "WORKFORCE_MODAL_EMBEDDING_MODEL"


def llm_settings() -> dict:
    """The LLM resource's settings: annotator spec (None = the original three), budget, concurrency, endpoint."""
    return {
        "annotators_spec": os.environ.get(ENV_LLM_ANNOTATORS) or None,
        "budget_usd": float(os.environ.get(ENV_LLM_BUDGET_USD) or 5.0),
        "concurrency": int(os.environ.get(ENV_LLM_CONCURRENCY) or 8),
        "api_base": os.environ.get(ENV_LLM_API_BASE) or None,
        "deadline_s": float(os.environ.get(ENV_LLM_DEADLINE_S) or 3600.0),
        "mode": _llm_mode(),
        "batch_poll_s": float(os.environ.get(ENV_LLM_BATCH_POLL_S) or 30.0),
        "batch_deadline_s": float(os.environ.get(ENV_LLM_BATCH_DEADLINE_S) or 3600.0),
    }


def _llm_mode() -> str:
    """'online' (default: one call per text) or 'batch' (vendor batch jobs where litellm supports them)."""
    value = (os.environ.get(ENV_LLM_MODE) or "online").strip().lower()
    if value not in LLM_MODES:
        raise ValueError(f"{ENV_LLM_MODE} must be one of {LLM_MODES}, got {value!r}")
    return value


def embeddings_backend() -> str:
    return os.environ.get(ENV_EMBEDDINGS_BACKEND) or "auto"


ENV_EMBEDDING_CACHE_DIR = "WORKFORCE_EMBEDDING_CACHE_DIR"


def embedding_cache_dir() -> str | None:
    """Where embedding vectors are cached by text content (default: ``embedding_cache/`` beside the DuckDB
    file). Point several warehouses (or a team's machines, on a shared disk) at one folder to embed a text
    once for all of them."""
    return os.environ.get(ENV_EMBEDDING_CACHE_DIR) or None


def modal_app() -> str:
    return (os.environ.get(ENV_MODAL_APP) or "").strip()


def modal_model() -> str | None:
    return os.environ.get(ENV_MODAL_MODEL) or None


def modal_token_in_environment() -> bool:
    return bool(os.environ.get("MODAL_TOKEN_ID") and os.environ.get("MODAL_TOKEN_SECRET"))


def secret(variable: str) -> str | None:
    """The value of a key variable named by configuration (an LLM annotator's API key), None when unset."""
    return os.environ.get(variable) or None


def child_environment(input_dir: Path, duckdb_path: Path | None = None) -> dict[str, str]:
    """The whole environment of a child process (``dg dev``: its code location and sensors): this process's
    environment plus the paths it must read the same as this command. Returned, never written into this
    process's ``os.environ``."""
    out = {**os.environ, ENV_INPUT_DIR: str(Path(input_dir).resolve()), ENV_DAGSTER_HOME: str(dagster_home())}
    if duckdb_path is not None:
        out[ENV_DUCKDB_PATH] = str(Path(duckdb_path).resolve())
    return out