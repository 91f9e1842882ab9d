"""Normalisers on tricky values: states, wage units and amounts, employer names, case statuses."""

from __future__ import annotations

import polars as pl
import pytest

from workforce_assets.ingestion.normalize import (
    annualize_wage,
    employer_display_name,
    fiscal_year_from_date,
    normalize_case_status,
    normalize_employer_name,
    normalize_state,
    normalize_wage_unit,
    parse_count,
    parse_money,
    wage_flag,
)


def apply(expression_of, values, dtype=pl.Utf8):
    return pl.DataFrame({"v": values}, schema={"v": dtype}).select(expression_of("v")).to_series().to_list()


def test_states_names_codes_territories_and_garbage():
    values = ["CA", "ca ", "california", "New  York", "NEW YORK", "District of Columbia", "Washington D.C.",
              "PUERTO RICO", "gu", "Virgin Islands", "American Samoa", "Northern Mariana Islands", "dc",
              "XX", "Ontario", "", None, "N/A", "WASHINGTON"]
    assert apply(normalize_state, values) == [
        "CA", "CA", "CA", "NY", "NY", "DC", "DC", "PR", "GU", "VI", "AS", "MP", "DC",
        "UNK", "UNK", "UNK", "UNK", "UNK", "WA",
    ]


@pytest.mark.parametrize(
    ("text", "number"),
    [("$1,200.50", 1200.5), (" 12 ", 12.0), ("$13.", 13.0), (".5", 0.5), ("12,000", 12000.0),
     ("#################", None), ("abc", None), ("12-14", None), ("", None), (None, None), ("-5", None)],
)
def test_parse_money(text, number):
    assert apply(parse_money, [text]) == [number]


def test_wage_units_and_annualisation():
    units = ["Hour", "hourly", "Week", "Bi-Weekly", "bi weekly", "Month", "Year", "Annual", "yr",
             "Piece Rate", "Select Pay Range", "fortnight", None]
    frame = pl.DataFrame({"rate": [10.0] * len(units), "unit": units})
    out = frame.select(normalize_wage_unit("unit").alias("unit"), annualize_wage("rate", "unit").alias("annual"))
    assert out["unit"].to_list() == ["Hour", "Hour", "Week", "Bi-Weekly", "Bi-Weekly", "Month", "Year", "Year",
                                     "Year", "Piece Rate", "Select Pay Range", "fortnight", None]
    assert out["annual"].to_list() == [20800.0, 20800.0, 520.0, 260.0, 260.0, 120.0, 10.0, 10.0, 10.0,
                                       None, None, None, None]


def test_wage_flags_keep_the_reason():
    frame = pl.DataFrame({
        "text": [None, "see file", "10", "10", "10", "12", "600"],
        "unit": ["Hour", "Hour", None, "Piece Rate", "Week", "Hour", "Hour"],
    }).with_columns(parse_money("text").alias("rate"))
    frame = frame.with_columns(annualize_wage("rate", "unit").alias("annual"))
    flags = frame.select(wage_flag("text", "rate", "unit", "annual")).to_series().to_list()
    assert flags == ["missing_wage", "unparseable_wage", "missing_unit", "unit_not_annualisable",
                     "implausible_low", None, "implausible_high"]


def test_employer_key_removes_case_punctuation_suffixes_and_dba():
    names = ["Acme, Inc.", "ACME INC", "acme  incorporated", "The Acme Company", "ACME CO., INC.",
             "Acme L.L.C.", "Acme Corp. d/b/a Roadrunner Farms", "ACME LLC DBA ROADRUNNER", "Acme Ltd (DBA Coyote)",
             "Jose's Masonry", "A & B Farms, LLC", "U.S.A. Farms LP", "INC", "Dbase Systems Inc", None, "  "]
    assert apply(normalize_employer_name, names) == [
        "ACME", "ACME", "ACME", "ACME", "ACME", "ACME", "ACME", "ACME", "ACME",
        "JOSES MASONRY", "A AND B FARMS", "USA FARMS", "INC", "DBASE SYSTEMS", None, None,
    ]
    assert apply(employer_display_name, ["  acme,   inc. ", ""]) == ["ACME, INC.", None]


def test_case_status_spellings():
    raw = ["DETERMINATION ISSUED - CERTIFICATION", "DETERMINATION ISSUED - PARTIAL CERTIFICATION EXPIRED",
           "Certification", "certified", "CERTIFIED-WITHDRAWN", "Certified-Expired", "Determination Issued - Denied",
           "Withdrawn", "DETERMINATION ISSUED - WITHDRAWN", "REJECTED", "INVALIDATED",
           "pending quality and compliance review - unassigned", None]
    assert apply(normalize_case_status, raw) == [
        "certified", "certified", "certified", "certified", "certified_withdrawn", "certified", "denied",
        "withdrawn", "withdrawn", "other", "other", "other", "unknown",
    ]


def test_counts_and_fiscal_years():
    assert apply(parse_count, ["1,234", "12", "12.0", "12.5", "n/a", None]) == [1234, 12, 12, None, None, None]
    dates = ["2015-06-25 15:59:29", "2014-10-01", "9/30/2013", "10/1/2013", "garbage", None]
    assert apply(fiscal_year_from_date, dates) == [2015, 2015, 2013, 2014, None, None]
