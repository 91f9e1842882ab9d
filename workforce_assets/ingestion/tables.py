"""Reading input files as text tables, and the checks every loader shares.

Everything is read as strings first (no type inference) so ids like ``007`` survive and nothing is lost
before it is parsed on purpose; headers are cleaned of a BOM and stray whitespace.
"""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

import polars as pl

from .result import quarantine_rows

ROW_NUMBER = "__row_number"
"""Internal column: 1-based data row of the source file (the header is not a row)."""

SAFE_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")
TEXT_SUFFIXES = (".csv", ".jsonl")


def _clean_header(name: str) -> str:
    return str(name).replace("\ufeff", "").strip()


def _finish(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """Clean headers, refuse duplicated names, make every column a string, trim blank cells to null."""
    names = [_clean_header(c) for c in frame.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{path.name}: column names appear more than once: {repeated}")
    frame = frame.rename(dict(zip(frame.columns, names)))
    return frame.with_columns(
        [_as_text(frame.schema[c], pl.col(c)).alias(c) for c in frame.columns]
    ).with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def _as_text(dtype: pl.DataType, expr: pl.Expr) -> pl.Expr:
    if dtype == pl.Utf8:
        text = expr
    elif isinstance(dtype, (pl.List, pl.Struct, pl.Array)):
        text = expr.map_elements(lambda v: str(v), return_dtype=pl.Utf8)
    else:
        text = expr.cast(pl.Utf8)
    text = text.str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


MAX_ERROR_CHARS = 600


def _shorten(text: str) -> str:
    """A parser's message cut to a readable size (an unclosed quote once put a whole 3 MB file into one)."""
    if len(text) <= MAX_ERROR_CHARS:
        return text
    return f"{text[:MAX_ERROR_CHARS // 2]} ... [{len(text) - MAX_ERROR_CHARS:,} characters left out] ... {text[-MAX_ERROR_CHARS // 2:]}"


def _refuse_repeated_header(path: Path) -> None:
    """A CSV header that names a column twice is an error, checked on the file's own header: polars renames the
    second ``llm_extra`` to ``llm_extra_duplicated_0`` before any later check could see it (a phantom annotator)."""
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    names = [_clean_header(name) for name in header]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{path.name}: column names appear more than once: {repeated}")


def _require_utf8(path: Path, chunk_bytes: int = 1 << 20) -> None:
    """Raise a ValueError naming the line of the first byte that is not UTF-8 (read in chunks, constant memory).

    Reading such a file as "lossy" UTF-8 would store Ingénieur as Ing\ufffdnieur without a word; the user is
    told where the file breaks and how to convert it instead."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    line, offset = 1, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                bad = error.start
                where = line + chunk[:bad].count(b"\n")
                raise ValueError(
                    f"{path.name}: not UTF-8: byte 0x{chunk[bad]:02x} at line {where} "
                    f"(byte offset {offset + bad}); save the file as UTF-8, for example "
                    f"`iconv -f latin1 -t utf-8 {path.name}`") from None
            line += chunk.count(b"\n")
            offset += len(chunk)
        decoder.decode(b"", final=True)


def read_table(path: Path) -> pl.DataFrame:
    """A ``.csv``, ``.jsonl`` or ``.xlsx`` file as an all-string DataFrame plus ``__row_number``.

    Cells are trimmed and blank cells become null; raises ValueError naming the file when it cannot be parsed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            if path.stat().st_size == 0:
                frame = pl.DataFrame()
            else:
                _require_utf8(path)
                _refuse_repeated_header(path)
                frame = pl.read_csv(path, infer_schema=False, encoding="utf8", truncate_ragged_lines=False)
        elif suffix in (".jsonl", ".ndjson"):
            frame = pl.read_ndjson(path) if path.stat().st_size else pl.DataFrame()
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        else:
            raise ValueError(f"{path.name}: unsupported file type {suffix!r} (use .csv, .jsonl or .xlsx)")
    except ValueError:
        raise
    except Exception as error:  # polars raises several error types for malformed files
        raise ValueError(f"{path.name}: cannot be read as {suffix} ({type(error).__name__}: "
                         f"{_shorten(str(error))})") from error
    return _finish(frame, path)


def require_columns(frame: pl.DataFrame, required: list[str], source: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        present = input_columns(frame)
        raise ValueError(f"{source}: missing required column(s) {missing}; columns present: {present}")


def input_columns(frame: pl.DataFrame) -> list[str]:
    """The file's own columns (internal helper columns start with ``__``)."""
    return [c for c in frame.columns if not c.startswith("__")]


def quarantine_from(frame: pl.DataFrame, source: str, reason_column: str = "__reason") -> pl.DataFrame:
    """Quarantine rows for every row of ``frame`` (already filtered), raw = the original cells."""
    raw_columns = [c for c in frame.columns if not c.startswith("__")]
    return quarantine_rows(
        source,
        frame[ROW_NUMBER].to_list(),
        frame[reason_column].to_list(),
        frame.select(raw_columns).to_dicts(),
    )


def duplicate_reasons(frame: pl.DataFrame, id_column: str, value_columns: list[str]) -> pl.Series:
    """For rows that share an id: null for the first, else why the later one is quarantined.

    Vectorised over groups: a repeat is an *exact duplicate* when its values equal the first row's,
    otherwise it *conflicts* with it (the first row is kept either way, so the result does not depend
    on how many repeats there are).
    """
    row = pl.col(ROW_NUMBER)
    first_of_id = row.min().over(id_column)
    first_with_same_values = row.min().over([id_column, *value_columns])
    reason = (
        pl.when(row == first_of_id)
        .then(None)
        .when(first_with_same_values == first_of_id)
        .then(pl.format("exact duplicate of row {}", first_of_id))
        .otherwise(pl.format("duplicate {} with conflicting values (row {} kept)", pl.lit(id_column), first_of_id))
    )
    return frame.select(reason.alias("__reason")).to_series()


def check_partition_key(key: str, what: str) -> str:
    if not SAFE_KEY.match(key or ""):
        raise ValueError(f"{what} {key!r} is not a safe partition key (letters, digits, _ - . only)")
    return key
