"""Property-based tests (hypothesis) of every loader: arbitrary bytes and arbitrary tables never raise
anything but the documented ValueError, and every data row read is either loaded or quarantined."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workforce_assets.ingestion.annotations import load_annotations
from workforce_assets.ingestion.inputs import load_companies, load_profiles, load_rated_cvs
from workforce_assets.ingestion.jobs import load_job_records
from workforce_assets.ingestion.tables import decode_text

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "0", "1", "yes", "no", "12", "-3", "1,200", "x" * 40, '"', "a,b", "line\nbreak",
                     "Ingénieur", "\u00a0", "TX", "Texas", "Year", "Hour", "45.5", "Certified", "Denied"]),
)


def _loaders(folder: Path, path: Path):
    """Each loader pointed at ``path`` laid out where it expects its file."""
    return {
        "rated_cvs": lambda: load_rated_cvs(path),
        "companies": lambda: load_companies(path),
        "profiles": lambda: load_profiles(path, "b1"),
        "jobs": lambda: load_job_records([path]),
        "annotations": lambda: load_annotations(folder),
    }


def _run_all(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "input.csv"
        path.write_bytes(data)
        for name, load in _loaders(folder, path).items():
            try:
                result = load()
            except ValueError:
                continue  # the documented error: a message naming the file
            assert result.stats["n_read"] == result.rows.height + result.quarantine.height, name
            assert result.stats["n_read"] == result.stats["n_loaded"] + result.stats["n_quarantined"], name


@SETTINGS
@given(st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_the_documented_error(data):
    _run_all(data)


HEADERS = ["cv_id", "cv_text", "is_ml_expert", "company_id", "company_name", "headcount", "profile_id",
           "profile_text", "employer_name", "job_title", "worksite_state", "wage_rate", "wage_unit", "case_status",
           "item_id", "llm_a", "filter_b", "extra"]


@st.composite
def tables(draw):
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7, unique=True))
    rows = draw(st.lists(st.lists(cells, min_size=max(len(header) - 1, 0), max_size=len(header) + 1), max_size=15))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = text.replace("\r\n", "\n\n", 1)  # a blank line
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


@SETTINGS
@given(tables())
def test_arbitrary_tables_are_loaded_or_quarantined_row_for_row(data):
    _run_all(data)


@SETTINGS
@given(st.text(max_size=200), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"]))
def test_decoding_round_trips_every_unicode_text_without_nul(text, encoding):
    text = "".join(ch for ch in text if ch != "\x00" and not "\ud800" <= ch <= "\udfff")
    if encoding in ("utf-16-le", "utf-16-be") and not text.isascii():
        return  # without a BOM only the byte pattern of mostly-ASCII text identifies UTF-16
    if encoding in ("utf-16-le", "utf-16-be") and len(text) < 2:
        return
    try:
        decoded, used = decode_text(text.encode(encoding), "x.csv")
    except ValueError:
        assert encoding.startswith("utf-16") or any(ord(c) < 32 and c not in "\t\r\n" for c in text)
        return
    assert decoded == text


def test_profiles_property_keeps_every_row_of_a_frame(tmp_path):
    """A deterministic anchor: the property helper really counts rows (a loader returning nothing fails)."""
    path = tmp_path / "input.csv"
    pl.DataFrame({"profile_id": ["p1", "p2"], "company_id": ["c", "c"], "profile_text": ["a", "b"]}).write_csv(path)
    result = load_profiles(path, "b1")
    assert result.stats["n_read"] == 2 == result.rows.height
