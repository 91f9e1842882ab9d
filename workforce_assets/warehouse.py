"""Warehouse helpers: short-lived connections, whole-table and per-partition replacement.

Two backends behind one set of helpers, chosen by the *target* each helper receives:

* a path: one DuckDB file (the embedded default). DuckDB allows one writer process per file, so every
  helper opens a connection, does one transaction and closes it; nothing holds a connection across an LLM
  or Modal call. A writer that finds the file locked by another process retries for a while instead of
  failing at once.
* a :class:`DuckLake`: a DuckLake catalog (in Postgres or SQLite) whose data are Parquet files under a data
  path. Each process keeps one in-memory DuckDB with the lake attached; each helper takes a cursor on it and
  works in one DuckLake transaction, so a partition replace stays atomic and several processes write at once (DuckLake's optimistic concurrency:
  a commit that conflicts with another is retried). The extensions are loaded from their PyPI packages
  (``duckdb-extension-ducklake`` and the ``-postgres-scanner`` / ``-sqlite-scanner`` packages, locked to the
  installed duckdb), never installed from the network.

Table names are ``schema.table`` on both.
"""

from __future__ import annotations

import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Union

import duckdb
import polars as pl

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOCK_WAIT_SECONDS = 120.0


@dataclass(frozen=True)
class DuckLake:
    """A DuckLake warehouse: ``catalog`` is what follows ``ducklake:`` in DuckDB's ATTACH
    (``postgres:dbname=wf host=127.0.0.1 port=5432 user=wf`` or ``sqlite:/path/catalog.sqlite``),
    ``data_path`` where the Parquet files go (a folder here, object storage in production)."""

    catalog: str
    data_path: str

    def __post_init__(self):
        kind = self.catalog.partition(":")[0]
        if kind not in ("postgres", "sqlite"):
            raise ValueError(f"a DuckLake catalog must start with 'postgres:' or 'sqlite:', got {self.catalog!r}")
        if not self.data_path:
            raise ValueError("a DuckLake warehouse needs a data path (WORKFORCE_DUCKLAKE_DATA_PATH)")

    def __str__(self) -> str:
        return f"ducklake:{self.catalog} (data {self.data_path})"


Target = Union[str, Path, DuckLake]
LAKE_ALIAS = "lake"
#: DuckLake commits that conflict with a concurrent one are retried this often (DuckLake's own retry setting)
LAKE_COMMIT_RETRIES = 50
#: a write whose commit conflicts with another process's change to the same table is redone this often
LAKE_WRITE_RETRIES = 20


def _extension_file(name: str) -> Path:
    """The extension binary shipped by the PyPI package ``duckdb-extension-<name>`` for the installed duckdb."""
    import importlib

    module_name = {"ducklake": "duckdb_extension_ducklake", "postgres_scanner": "duckdb_extension_postgres_scanner",
                   "sqlite_scanner": "duckdb_extension_sqlite_scanner"}[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RuntimeError(f"the DuckLake warehouse needs the package {module_name.replace('_', '-')} "
                           f"(pip install -e . installs it)") from exc
    folder = Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    found = sorted(folder.glob(f"{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"{module_name} has no extension for duckdb {duckdb.__version__} (looked in {folder}): "
                           "install the extension package of the same version as duckdb")
    return found[0]


def _retry_while_locked(action, is_locked, wait_seconds: float):
    """``action()``, retried with backoff (50 ms doubling to 1 s) while it fails with a lock error, for up to
    ``wait_seconds``; any other error, or a lock still held then, is raised."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return action()
        except duckdb.Error as exc:
            if not is_locked(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _open_lake(lake: DuckLake, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        scanner = "postgres_scanner" if lake.catalog.startswith("postgres:") else "sqlite_scanner"
        for name in ("ducklake", scanner):
            conn.execute(f"LOAD '{_extension_file(name)}'")
        if not lake.data_path.startswith(("s3://", "gs://", "az://", "abfss://", "r2://", "http://", "https://")):
            Path(lake.data_path).mkdir(parents=True, exist_ok=True)
        if lake.catalog.startswith("sqlite:"):
            Path(lake.catalog.partition(":")[2]).parent.mkdir(parents=True, exist_ok=True)
        # a SQLite catalog being created by another process is briefly locked
        _retry_while_locked(
            lambda: conn.execute(f"ATTACH 'ducklake:{lake.catalog}' AS {LAKE_ALIAS} (DATA_PATH '{lake.data_path}')"),
            lambda exc: "lock" in str(exc).lower(), wait_seconds)
        conn.execute(f"SET GLOBAL ducklake_max_retry_count = {LAKE_COMMIT_RETRIES}")
        return conn
    except BaseException:
        conn.close()
        raise


# One in-memory DuckDB per process and lake, with the extensions loaded and the lake attached: loading the
# two extensions and attaching cost 0.32-0.44 s (benchmarks/warehouse_backends.py), paid once instead of on every read and write (a pipeline run
# does hundreds). Each unit of work gets its own cursor (its own connection and transaction on that
# database), so threads never share a transaction. Keyed by pid: a forked child opens its own.
_LAKES: dict[tuple[int, DuckLake], duckdb.DuckDBPyConnection] = {}
_LAKES_LOCK = threading.Lock()


def _connect_lake(lake: DuckLake, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    key = (os.getpid(), lake)
    with _LAKES_LOCK:
        engine = _LAKES.get(key)
        if engine is None:
            engine = _LAKES[key] = _open_lake(lake, wait_seconds)
    cursor = engine.cursor()
    cursor.execute(f"USE {LAKE_ALIAS}")
    return cursor


def _split(table: str) -> tuple[str, str]:
    schema, _, name = table.partition(".")
    if not name or not _IDENT.match(schema) or not _IDENT.match(name):
        raise ValueError(f"table must be 'schema.name' with plain identifiers, got {table!r}")
    return schema, name


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflict" in text or "could not set lock" in text)


@contextmanager
def connect(path: Target, read_only: bool = False, wait_seconds: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for one short unit of work: a DuckDB file (waiting, not failing, while another
    process writes) or a :class:`DuckLake` (attached as the default database)."""
    if isinstance(path, DuckLake):
        conn = _connect_lake(path, wait_seconds)
        try:
            yield conn
        finally:
            conn.close()
        return
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    # another process holds the write lock
    conn = _retry_while_locked(lambda: duckdb.connect(str(path), read_only=read_only), _is_lock_error, wait_seconds)
    try:
        yield conn
    finally:
        conn.close()


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = _split(table)
    row = conn.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()
    return bool(row and row[0])


def _add_missing_columns(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    existing = {r[0] for r in conn.execute(f"describe {table}").fetchall()}
    for col, dtype, *_ in conn.execute("describe _incoming").fetchall():
        if col not in existing:
            conn.execute(f'alter table {table} add column "{col}" {dtype}')


def _check_partition(table: str, df: pl.DataFrame, partition_column: str | None, partition_value: str | None) -> None:
    if (partition_column is None) != (partition_value is None):
        raise ValueError("give both partition_column and partition_value, or neither")
    if partition_column is not None:
        if partition_column not in df.columns:
            raise ValueError(f"frame for {table} lacks partition column {partition_column!r}")
        bad = df.filter(pl.col(partition_column).cast(pl.Utf8) != str(partition_value)).height
        if bad:
            raise ValueError(f"{bad} rows of {table} do not belong to partition {partition_value!r}")


def _replace_in(conn: duckdb.DuckDBPyConnection, table: str, df: pl.DataFrame,
                partition_column: str | None, partition_value: str | None) -> None:
    schema, _ = _split(table)
    conn.execute(f"create schema if not exists {schema}")
    conn.register("_incoming", df.to_arrow())
    if partition_column is None or not table_exists(conn, table):
        if partition_column is None:
            conn.execute(f"create or replace table {table} as select * from _incoming")
        else:
            conn.execute(f"create table {table} as select * from _incoming")
    else:
        _add_missing_columns(conn, table)
        conn.execute(f'delete from {table} where "{partition_column}" = ?', [str(partition_value)])
        conn.execute(f"insert into {table} by name select * from _incoming")
    conn.unregister("_incoming")


def write_table(
    path: Target,
    table: str,
    df: pl.DataFrame,
    partition_column: str | None = None,
    partition_value: str | None = None,
) -> int:
    """Replace ``table`` (or only the rows of one partition) with ``df`` in one transaction.

    With a partition, rows whose ``partition_column`` equals ``partition_value`` are deleted first, so
    re-materializing a partition never duplicates rows. New columns are added to the table; columns the
    frame lacks are left null. Returns the number of rows written.
    """
    return write_tables(path, [(table, df, partition_column, partition_value)])[table]


def write_tables(path: Target, writes: list[tuple]) -> dict[str, int]:
    """Several replaces (``(table, df)`` or ``(table, df, partition_column, partition_value)``) in ONE
    transaction: an asset whose output spans tables (a summary and its draws) is never half written."""
    normalised = [(w[0], w[1], *(w[2:] if len(w) > 2 else (None, None))) for w in writes]
    for table, df, column, value in normalised:
        _split(table)
        _check_partition(table, df, column, value)
    attempt = 0
    while True:
        try:
            with connect(path) as conn:
                conn.execute("begin transaction")
                try:
                    for table, df, column, value in normalised:
                        _replace_in(conn, table, df, column, value)
                    conn.execute("commit")
                except Exception:
                    _rollback_quietly(conn)
                    raise
            break
        except duckdb.TransactionException as exc:
            # DuckLake: another process committed a change to the same table first, or holds a SQLite catalog's
            # lock while it commits. The replace is idempotent (delete the partition, insert it), so it is
            # redone on the new snapshot.
            attempt += 1
            text = str(exc).lower()
            retryable = "conflict" in text or "database is locked" in text
            if not isinstance(path, DuckLake) or not retryable or attempt > LAKE_WRITE_RETRIES:
                raise
            time.sleep(min(0.05 * 2 ** attempt, 2.0))
    return {table: df.height for table, df, _, _ in normalised}


def _rollback_quietly(conn: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open (a failed commit has already ended it); never mask the error."""
    try:
        conn.execute("rollback")
    except duckdb.Error:
        pass


def read_table(path: Target, table: str, where: str | None = None, params: list | None = None) -> pl.DataFrame:
    """Read a table (optionally filtered) as polars; raises a clear error when the table does not exist."""
    _split(table)
    with connect(path) as conn:
        if not table_exists(conn, table):
            raise LookupError(f"table {table} does not exist in {path}: materialize its asset first")
        query = f"select * from {table}" + (f" where {where}" if where else "")
        return conn.execute(query, params or []).pl()


def query(path: Target, sql: str, params: list | None = None) -> pl.DataFrame:
    """Run one read query and return polars (for reports and checks)."""
    with connect(path) as conn:
        return conn.execute(sql, params or []).pl()


def execute(path: Target, sql: str, params: list | None = None) -> None:
    """Run one statement that returns nothing (DDL such as a view)."""
    with connect(path) as conn:
        conn.execute(sql, params or [])
