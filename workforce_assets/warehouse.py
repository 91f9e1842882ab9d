"""DuckDB warehouse helpers: short-lived connections, whole-table and per-partition replacement.

DuckDB allows one writer process per file, so every helper opens a connection, does one transaction and
closes it; nothing holds a connection across an LLM or Modal call. A writer that finds the file locked by
another process retries for a while instead of failing at once.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOCK_WAIT_SECONDS = 120.0


def _split(table: str) -> tuple[str, str]:
    schema, _, name = table.partition(".")
    if not name or not _IDENT.match(schema) or not _IDENT.match(name):
        raise ValueError(f"table must be 'schema.name' with plain identifiers, got {table!r}")
    return schema, name


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflict" in text or "could not set lock" in text)


@contextmanager
def connect(path: str | Path, read_only: bool = False, wait_seconds: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``path`` for one short unit of work, waiting (not failing) while another process writes."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:  # another process holds the write lock
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        yield conn
    finally:
        conn.close()


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = _split(table)
    row = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
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
    path: str | Path,
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


def write_tables(path: str | Path, writes: list[tuple]) -> dict[str, int]:
    """Several replaces (``(table, df)`` or ``(table, df, partition_column, partition_value)``) in ONE
    transaction: an asset whose output spans tables (a summary and its draws) is never half written."""
    normalised = [(w[0], w[1], *(w[2:] if len(w) > 2 else (None, None))) for w in writes]
    for table, df, column, value in normalised:
        _split(table)
        _check_partition(table, df, column, value)
    with connect(path) as conn:
        conn.execute("begin transaction")
        try:
            for table, df, column, value in normalised:
                _replace_in(conn, table, df, column, value)
            conn.execute("commit")
        except Exception:
            conn.execute("rollback")
            raise
    return {table: df.height for table, df, _, _ in normalised}


def read_table(path: str | Path, table: str, where: str | None = None, params: list | None = None) -> pl.DataFrame:
    """Read a table (optionally filtered) as polars; raises a clear error when the table does not exist."""
    _split(table)
    with connect(path) as conn:
        if not table_exists(conn, table):
            raise LookupError(f"table {table} does not exist in {path}: materialize its asset first")
        query = f"select * from {table}" + (f" where {where}" if where else "")
        return conn.execute(query, params or []).pl()


def query(path: str | Path, sql: str, params: list | None = None) -> pl.DataFrame:
    """Run one read query and return polars (for reports and checks)."""
    with connect(path) as conn:
        return conn.execute(sql, params or []).pl()


def execute(path: str | Path, sql: str, params: list | None = None) -> None:
    """Run one statement that returns nothing (DDL such as a view)."""
    with connect(path) as conn:
        conn.execute(sql, params or [])
