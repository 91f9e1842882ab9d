"""Reading input files as text tables, and the checks every loader shares.

Everything is read as strings first (no type inference) so ids like ``007`` survive and nothing is lost
before it is parsed on purpose; headers are cleaned of a BOM and stray whitespace.

CSV files are decoded by detected encoding (UTF-8 with or without BOM, UTF-16 by BOM or byte pattern,
otherwise Windows-1252 / Latin-1; a file that still decodes to control characters is refused) and parsed
with Python's ``csv`` module, which follows RFC 4180 quoting: polars' reader splits a quoted field at a
blank line inside it (a profile with two paragraphs became three rows). A malformed row (wrong number of
fields, an unclosed quote) is quarantined with its row and line number while the rest of the file loads;
blank lines are skipped and counted.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .result import LoadResult, empty_quarantine, quarantine_rows

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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NUL = re.compile("\x00")
MAX_RECORD_LINES = 5000  # a quoted field spanning more lines than this is an unclosed quote
MAX_MALFORMED_ROWS = 1000  # beyond this the file is refused: it is not the format it claims


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """The text of a file and the encoding it was read with; never lossy (ValueError instead).

    UTF-8 (a BOM is dropped), UTF-16 (BOM, or NUL bytes in every other position), then Windows-1252 and,
    for the five bytes it leaves undefined, Latin-1. Refused, with the line where it happens: a NUL
    character (binary data), and, for the single-byte guesses, any control character (the guess was wrong:
    no text table in those encodings holds one). Valid UTF-8 keeps its rare control characters as they are
    (the real H-1B extract has one U+0090 in a city name).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        sample = data[:4096]
        even_nul, odd_nul = sample[0::2].count(0), sample[1::2].count(0)
        if len(sample) >= 4 and odd_nul > 0.4 * len(sample) / 2 and even_nul == 0:
            candidates = ["utf-16-le"]
        elif len(sample) >= 4 and even_nul > 0.4 * len(sample) / 2 and odd_nul == 0:
            candidates = ["utf-16-be"]
        else:
            candidates = ["utf-8", "cp1252", "latin-1"]
    error = None
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            error = error or exc
            continue
        bad = (_NUL if encoding.startswith("utf") else _CONTROL).search(text)
        if bad:
            line = text.count("\n", 0, bad.start()) + 1
            raise ValueError(f"{name}: read as {encoding}, line {line} holds the control character "
                             f"U+{ord(bad.group()):04X}: not a text table in UTF-8, UTF-16, Windows-1252 or "
                             "Latin-1; save it as UTF-8")
        return text, encoding
    position = error.start if error else 0
    line = data.count(b"\n", 0, position) + 1
    raise ValueError(f"{name}: cannot be decoded as {' or '.join(candidates)} (byte 0x{data[position]:02x} at line "
                     f"{line}); save it as UTF-8")


@dataclass
class TableRead:
    """A file as an all-string frame (plus ``__row_number``), the rows that could not be parsed, and counts."""

    frame: pl.DataFrame
    rejects: pl.DataFrame = field(default_factory=empty_quarantine)
    stats: dict = field(default_factory=dict)

    def merge(self, result: LoadResult, source: str | None = None) -> LoadResult:
        """``result`` (built from ``frame``) with the unparsable rows added to its quarantine and counts;
        ``source`` names them as the loader names its own quarantine rows (default: the file name)."""
        n = self.rejects.height
        rejects = self.rejects.with_columns(source=pl.lit(source)) if source and n else self.rejects
        stats = dict(result.stats)
        stats["n_read"] = stats.get("n_read", result.rows.height + result.quarantine.height) + n
        stats["n_quarantined"] = stats.get("n_quarantined", result.quarantine.height) + n
        stats.update(self.stats)
        quarantine = pl.concat([rejects, result.quarantine]) if n else result.quarantine
        return LoadResult(rows=result.rows, quarantine=quarantine, stats=stats)


def _open_quote(record_lines: list[str]) -> bool:
    """Whether these lines end inside a quoted field (an odd number of quote characters in all)."""
    return sum(line.count('"') for line in record_lines) % 2 == 1


def _parse_csv(text: str, name: str):
    """Header, good records with their row numbers, rejects (row, line, reason, raw) and blank-line count.

    A record with more fields than the header is kept only when the extra fields are empty; fewer fields,
    or non-empty extra ones, is a malformed row. An unclosed quote is found as a record spanning more than
    ``MAX_RECORD_LINES`` lines (or running to the end of the file): its first line is quarantined and
    parsing resumes on the next line.
    """
    lines = text.splitlines(keepends=True)
    header: list[str] | None = None
    records: list[list[str]] = []
    row_numbers: list[int] = []
    rejects: list[tuple[int, int, str, str]] = []
    n_blank = 0
    row = 0
    start = 0  # index into lines where the current reader started
    while start < len(lines) and len(rejects) <= MAX_MALFORMED_ROWS:
        reader = csv.reader(iter(lines[start:]), strict=False)
        restart = None
        consumed = 0
        while True:
            first_line = start + consumed  # 0-based index of the record's first line
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # a field larger than the field limit: an unclosed quote
                restart = (first_line, f"a quoted field opened on line {first_line + 1} is not closed ({exc})")
                break
            span = reader.line_num - consumed
            consumed = reader.line_num
            runs_to_end = first_line + span >= len(lines) and _open_quote(lines[first_line:first_line + span])
            if span > MAX_RECORD_LINES or runs_to_end:
                restart = (first_line, f"a quoted field opened on line {first_line + 1} is not closed "
                                       f"({'end of file' if runs_to_end else f'over {MAX_RECORD_LINES} lines'})")
                break
            if not record or all(not cell.strip() for cell in record):
                n_blank += 1
                continue
            if header is None:
                header = record
                continue
            row += 1
            width = len(header)
            if len(record) > width and all(not cell.strip() for cell in record[width:]):
                record = record[:width]  # trailing empty fields (a trailing comma) carry nothing
            if len(record) != width:
                raw = "".join(lines[first_line:first_line + span]).rstrip("\r\n")
                rejects.append((row, first_line + 1, f"line {first_line + 1} has {len(record)} fields, the header "
                                                      f"has {width}", _shorten(raw)))
                continue
            records.append(record)
            row_numbers.append(row)
        if restart is None:
            break
        line_index, reason = restart
        if header is None:
            raise ValueError(f"{name}: the header {reason}")
        row += 1
        rejects.append((row, line_index + 1, reason, _shorten(lines[line_index].rstrip("\r\n"))))
        start = line_index + 1
    if len(rejects) > MAX_MALFORMED_ROWS:
        raise ValueError(f"{name}: more than {MAX_MALFORMED_ROWS} malformed rows (first: line {rejects[0][1]}, "
                         f"{rejects[0][2]}); is it a CSV file with this header?")
    return header or [], records, row_numbers, rejects, n_blank


def _read_csv(path: Path) -> TableRead:
    text, encoding = decode_text(path.read_bytes(), path.name)
    header, records, row_numbers, rejects, n_blank = _parse_csv(text, path.name)
    names = [_clean_header(name) for name in header]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:  # checked on the file's own header: a reader that renames repeats would hide them
        raise ValueError(f"{path.name}: column names appear more than once: {repeated}")
    columns = list(zip(*records)) if records else [() for _ in names]
    frame = pl.DataFrame([pl.Series(name, list(values), dtype=pl.Utf8) for name, values in zip(names, columns)])
    frame = _finish(frame, path).with_columns(pl.Series(ROW_NUMBER, row_numbers, dtype=pl.Int64))
    quarantine = quarantine_rows(path.name, [r[0] for r in rejects], [r[2] for r in rejects],
                                 [r[3] for r in rejects]) if rejects else empty_quarantine()
    stats = {"encoding": encoding, "n_blank_lines": n_blank, "n_malformed_rows": len(rejects)}
    return TableRead(frame=frame, rejects=quarantine, stats=stats)


def _refuse_repeated_excel_header(path: Path) -> None:
    """The first sheet's own header row, checked before the reader renames a repeat (``a`` -> ``a_1``)."""
    import fastexcel

    header = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, n_rows=1).to_polars()
    names = [_clean_header(v) for v in header.row(0) if v is not None] if header.height else []
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise ValueError(f"{path.name}: column names appear more than once: {repeated}")


def read_table(path: Path) -> TableRead:
    """A ``.csv``, ``.jsonl`` or ``.xlsx`` file as an all-string DataFrame plus ``__row_number``, with the
    rows that could not be parsed (CSV) as quarantine rows.

    Cells are trimmed and blank cells become null; raises ValueError naming the file when it cannot be read
    at all (unknown encoding, repeated column names, a broken header, more than 1,000 malformed rows).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            if path.stat().st_size == 0:
                return TableRead(frame=_finish(pl.DataFrame(), path))
            return _read_csv(path)
        elif suffix in (".jsonl", ".ndjson"):
            frame = pl.read_ndjson(path) if path.stat().st_size else pl.DataFrame()
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            _refuse_repeated_excel_header(path)
            frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        else:
            raise ValueError(f"{path.name}: unsupported file type {suffix!r} (use .csv, .jsonl or .xlsx)")
    except ValueError:
        raise
    except Exception as error:  # polars raises several error types for malformed files
        raise ValueError(f"{path.name}: cannot be read as {suffix} ({type(error).__name__}: "
                         f"{_shorten(str(error))})") from error
    return TableRead(frame=_finish(frame, path))


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
