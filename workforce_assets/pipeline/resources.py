"""Dagster resources: the DuckDB warehouse, the input directory, LLM and embedding settings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl

from workforce_assets import settings, warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse: one DuckDB file (``backend='duckdb'``, the default) or DuckLake (``backend='ducklake'``:
    catalog in Postgres or SQLite, Parquet data under ``ducklake_data_path``). Every call opens a short
    connection and does one transaction.

    ``duckdb_path`` is the DuckDB file, and its folder holds this machine's side files on either backend
    (fitted models, reports, caches)."""

    duckdb_path: str
    backend: str = "duckdb"
    ducklake_catalog: str | None = None
    ducklake_data_path: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.duckdb_path)

    @property
    def target(self) -> "warehouse.Target":
        """What the warehouse helpers open: the DuckDB file, or the DuckLake."""
        if self.backend == "duckdb":
            return self.path
        if self.backend == "ducklake":
            return warehouse.DuckLake(self.ducklake_catalog or "", self.ducklake_data_path or "")
        raise ValueError(f"warehouse backend must be 'duckdb' or 'ducklake', got {self.backend!r}")

    def write(self, table: str, df: pl.DataFrame, partition_column: str | None = None, partition_value: str | None = None) -> int:
        return warehouse.write_table(self.target, table, df, partition_column, partition_value)

    def write_many(self, writes: list[tuple]) -> dict[str, int]:
        """Several tables in one transaction (see :func:`workforce_assets.warehouse.write_tables`)."""
        return warehouse.write_tables(self.target, writes)

    def read(self, table: str, where: str | None = None, params: list | None = None) -> pl.DataFrame:
        return warehouse.read_table(self.target, table, where, params)

    def query(self, sql: str, params: list | None = None) -> pl.DataFrame:
        return warehouse.query(self.target, sql, params)

    def execute(self, sql: str, params: list | None = None) -> None:
        warehouse.execute(self.target, sql, params)

    def exists(self, table: str) -> bool:
        if self.backend == "duckdb" and not self.path.exists():
            return False
        with warehouse.connect(self.target) as conn:
            return warehouse.table_exists(conn, table)


class InputDirResource(dg.ConfigurableResource):
    """The input directory of the contract (docs/data_formats.md)."""

    input_dir: str

    @property
    def root(self) -> Path:
        return Path(self.input_dir)

    def require(self, relative: str) -> Path:
        path = self.root / relative
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found: the input directory {self.root} must hold {relative} (see docs/data_formats.md)"
            )
        return path


class LLMResource(dg.ConfigurableResource):
    """Which LLM annotators run, their budget and concurrency. Keys come from the environment only."""

    annotators_spec: str | None = None  # name=provider/model[@KEY_ENV],... (default: the original three)
    budget_usd: float = 5.0
    concurrency: int = 8
    timeout_s: float = 60.0
    api_base: str | None = None
    deadline_s: float = 3600.0  # wall time for one step's calls; what is unanswered then stays missing
    retry_after_cap_s: float = 120.0  # a vendor asking to wait longer fails the item instead
    breaker_failures: int = 12  # consecutive failed attempts that stop calling an annotator for the run
    max_answer_chars: int = 2000
    # 'batch': vendor batch jobs (OpenAI / Azure through litellm) at batch prices; the step polls them up to
    # batch_deadline_s, and what is still running then is collected by the next materialization
    mode: str = "online"
    batch_poll_s: float = 30.0
    batch_deadline_s: float = 3600.0
    cache_path: str

    def vendor_options(self) -> dict:
        return {"timeout_s": self.timeout_s, "deadline_s": self.deadline_s, "retry_after_cap_s": self.retry_after_cap_s,
                "breaker_failures": self.breaker_failures, "max_answer_chars": self.max_answer_chars}

    def annotators(self):
        from workforce_assets.annotation.llm_config import parse_annotators

        return parse_annotators(self.annotators_spec, self.api_base)


class EmbeddingsResource(dg.ConfigurableResource):
    """Sentence embeddings for keyword learning: Modal GPUs when configured, the packaged local model otherwise."""

    backend: str = "auto"  # auto | local | modal
    modal_app: str | None = None  # default: $WORKFORCE_MODAL_APP; Modal is used only when an app is named
    model_name: str | None = None  # default: $WORKFORCE_MODAL_EMBEDDING_MODEL (Modal); locally the packaged MiniLM
    cache_dir: str | None = None  # vectors cached by text content; default: embedding_cache/ beside the warehouse

    def cache_path(self, warehouse_path: Path) -> Path:
        return Path(self.cache_dir) if self.cache_dir else Path(warehouse_path).parent / "embedding_cache"

    def get_backend(self, log=None):
        """A BackendChoice (backend, reason, metadata); configured-but-broken Modal raises, never falls back."""
        from workforce_assets.annotation import embeddings

        return embeddings.choose_backend(preference=self.backend, modal_app=self.modal_app, model_name=self.model_name, log=log)


def default_resources(input_dir: str | Path | None = None, duckdb_path: str | Path | None = None) -> dict:
    """Resources from the environment (WORKFORCE_INPUT_DIR, WORKFORCE_DUCKDB_PATH, WORKFORCE_WAREHOUSE and
    WORKFORCE_DUCKLAKE_*, WORKFORCE_LLM_*)."""
    db = Path(duckdb_path) if duckdb_path else settings.duckdb_path()
    return {
        "warehouse": WarehouseResource(duckdb_path=str(db), **settings.warehouse_settings()),
        "inputs": InputDirResource(input_dir=str(Path(input_dir) if input_dir else settings.input_dir())),
        "llm": LLMResource(
            **settings.llm_settings(),
            cache_path=str(db.parent / "llm_cache.duckdb"),
        ),
        "embeddings": EmbeddingsResource(backend=settings.embeddings_backend(), cache_dir=settings.embedding_cache_dir()),
    }
