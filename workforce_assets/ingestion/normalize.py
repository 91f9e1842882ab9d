"""Normalisers for DOL disclosure values, as vectorised polars expressions (reused by the labor domain).

Each function takes a column name or a ``pl.Expr`` of raw strings and returns an expression, so a whole
file is normalised in one pass and the rules live in one place.
"""

from __future__ import annotations

import re

import polars as pl

# --- states -------------------------------------------------------------------------------------------

UNKNOWN_STATE = "UNK"

STATE_CODES: dict[str, str] = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "FLORIDA": "FL", "GEORGIA": "GA",
    "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL", "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS",
    "KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA",
    "MICHIGAN": "MI", "MINNESOTA": "MN", "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT",
    "NEBRASKA": "NE", "NEVADA": "NV", "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM",
    "NEW YORK": "NY", "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK",
    "OREGON": "OR", "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT",
    "VIRGINIA": "VA", "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY",
    "DISTRICT OF COLUMBIA": "DC", "WASHINGTON DC": "DC", "WASHINGTON D C": "DC",
    "PUERTO RICO": "PR", "GUAM": "GU", "VIRGIN ISLANDS": "VI", "US VIRGIN ISLANDS": "VI",
    "U S VIRGIN ISLANDS": "VI", "UNITED STATES VIRGIN ISLANDS": "VI", "AMERICAN SAMOA": "AS",
    "NORTHERN MARIANA ISLANDS": "MP", "COMMONWEALTH OF THE NORTHERN MARIANA ISLANDS": "MP",
}
"""Full names (upper case, dots removed, single spaces) to USPS codes: 50 states, DC and five territories."""

_STATE_LOOKUP = {**STATE_CODES, **{code: code for code in STATE_CODES.values()}}


def _expr(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def _squash(text: pl.Expr) -> pl.Expr:
    """Upper case, trimmed, single-spaced: the form every lookup table below is keyed on."""
    return text.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars()


def normalize_state(column: str | pl.Expr) -> pl.Expr:
    """USPS code for a state / territory name or code in any case; anything else (and null) -> ``'UNK'``."""
    key = _squash(_expr(column).cast(pl.Utf8).str.replace_all(r"\.", "")).str.replace_all(r"\s+", " ")
    return key.replace_strict(_STATE_LOOKUP, default=UNKNOWN_STATE, return_dtype=pl.Utf8)


# --- wages ----------------------------------------------------------------------------------------------

PERIODS_PER_YEAR: dict[str, float] = {"Hour": 2080.0, "Week": 52.0, "Bi-Weekly": 26.0, "Semi-Monthly": 24.0,
                                      "Month": 12.0, "Year": 1.0}
"""Full-time conversions to an annual wage (2080 hours = 52 weeks x 40 hours)."""

_UNIT_SPELLINGS: dict[str, str] = {
    "HOUR": "Hour", "HOURLY": "Hour", "HR": "Hour", "HRS": "Hour", "H": "Hour", "PER HOUR": "Hour",
    "WEEK": "Week", "WEEKLY": "Week", "WK": "Week", "PER WEEK": "Week",
    "BI-WEEKLY": "Bi-Weekly", "BIWEEKLY": "Bi-Weekly", "BI WEEKLY": "Bi-Weekly", "BI": "Bi-Weekly",
    "EVERY TWO WEEKS": "Bi-Weekly",
    "SEMI-MONTHLY": "Semi-Monthly", "SEMIMONTHLY": "Semi-Monthly", "SEMI MONTHLY": "Semi-Monthly",
    "MONTH": "Month", "MONTHLY": "Month", "MTH": "Month", "MO": "Month", "PER MONTH": "Month",
    "YEAR": "Year", "YEARLY": "Year", "YR": "Year", "ANNUAL": "Year", "ANNUALLY": "Year", "PER YEAR": "Year",
    "PIECE RATE": "Piece Rate", "PIECE": "Piece Rate",
    "SELECT PAY RANGE": "Select Pay Range",
}

MIN_PLAUSIBLE_ANNUAL_WAGE = 10_000.0
MAX_PLAUSIBLE_ANNUAL_WAGE = 1_000_000.0


def parse_money(column: str | pl.Expr) -> pl.Expr:
    """``'$1,200.50'`` -> 1200.5; dollar signs, thousands commas and spaces are ignored; anything else -> null."""
    cleaned = _expr(column).cast(pl.Utf8).str.replace_all(r"[\$,\s]", "")
    return pl.when(cleaned.str.contains(r"^(\d+\.?\d*|\.\d+)$")).then(cleaned).cast(pl.Float64, strict=False)


def normalize_wage_unit(column: str | pl.Expr) -> pl.Expr:
    """Canonical unit (Hour, Week, Bi-Weekly, Semi-Monthly, Month, Year, Piece Rate, Select Pay Range);
    an unrecognised spelling is kept trimmed so it stays visible; blank -> null."""
    raw = _expr(column).cast(pl.Utf8).str.strip_chars()
    key = _squash(raw)
    return (
        pl.when(key.is_null() | (key == ""))
        .then(None)
        .otherwise(key.replace_strict(_UNIT_SPELLINGS, default=raw, return_dtype=pl.Utf8))
    )


def annualize_wage(rate: str | pl.Expr, unit: str | pl.Expr) -> pl.Expr:
    """Annual wage from a numeric ``rate`` and a raw or canonical ``unit``; null where the unit cannot be
    annualised (Piece Rate, Select Pay Range, unknown or missing)."""
    factor = normalize_wage_unit(unit).replace_strict(PERIODS_PER_YEAR, default=None, return_dtype=pl.Float64)
    return _expr(rate).cast(pl.Float64) * factor


def wage_flag(rate_text: str | pl.Expr, rate: str | pl.Expr, unit: str | pl.Expr, annual: str | pl.Expr) -> pl.Expr:
    """Why a wage is doubtful, or null: ``missing_wage``, ``unparseable_wage``, ``missing_unit``,
    ``unit_not_annualisable`` (piece rate, 'Select Pay Range', unknown unit), ``implausible_low`` /
    ``implausible_high`` (annual outside 10,000..1,000,000; the row is kept)."""
    rate_text, rate, annual = _expr(rate_text), _expr(rate), _expr(annual)
    canonical = normalize_wage_unit(unit)
    return (
        pl.when(rate_text.is_null())
        .then(pl.lit("missing_wage"))
        .when(rate.is_null())
        .then(pl.lit("unparseable_wage"))
        .when(canonical.is_null())
        .then(pl.lit("missing_unit"))
        .when(annual.is_null())
        .then(pl.lit("unit_not_annualisable"))
        .when(annual < MIN_PLAUSIBLE_ANNUAL_WAGE)
        .then(pl.lit("implausible_low"))
        .when(annual > MAX_PLAUSIBLE_ANNUAL_WAGE)
        .then(pl.lit("implausible_high"))
        .otherwise(None)
    )


# --- case status ---------------------------------------------------------------------------------------

CASE_STATUSES = ("certified", "certified_withdrawn", "denied", "withdrawn", "other")


UNKNOWN_STATUS = "unknown"


def normalize_case_status(column: str | pl.Expr) -> pl.Expr:
    """One of certified, certified_withdrawn, denied, withdrawn, other, unknown.

    DOL spells statuses many ways ('DETERMINATION ISSUED - PARTIAL CERTIFICATION', 'Certification Expired',
    'CERTIFIED-WITHDRAWN', 'Certified-Expired'); partial and expired certifications count as certified.
    Rejected, invalidated and pending are ``other`` (rejection is not a decision on the merits). A blank or
    missing status is ``unknown``: nothing says the case was not certified, so the models use such rows and
    count them.
    """
    text = _squash(_expr(column))
    certified = text.str.contains(r"CERTIF")
    withdrawn = text.str.contains(r"WITHDRAW")
    return (
        pl.when(certified & withdrawn)
        .then(pl.lit("certified_withdrawn"))
        .when(withdrawn)
        .then(pl.lit("withdrawn"))
        .when(text.str.contains(r"DENIED|DENIAL"))
        .then(pl.lit("denied"))
        .when(certified)
        .then(pl.lit("certified"))
        .when(text.is_null() | (text == ""))
        .then(pl.lit(UNKNOWN_STATUS))
        .otherwise(pl.lit("other"))
    )


# --- employers -----------------------------------------------------------------------------------------

LEGAL_SUFFIXES = (
    "INC", "INCORPORATED", "LLC", "LC", "LTD", "LIMITED", "CORP", "CORPORATION", "CO", "COMPANY",
    "LP", "LLP", "LLLP", "PC", "PLLC", "PA", "PLC", "GMBH", "AG", "SA", "NV", "BV", "PTY", "SRL",
)
"""Trailing legal-form words removed (repeatedly) from the employer key: ACME CO INC -> ACME."""

_DBA_SPLIT = re.compile(r"(?:[\s(,]|^)(?:D\s*/\s*B\s*/\s*A|D\.B\.A\.?|DBA)(?:[\s:,)]|$)")
_SUFFIX_TAIL = r"(?:\s+(?:" + "|".join(LEGAL_SUFFIXES) + r"))+$"


def employer_display_name(column: str | pl.Expr) -> pl.Expr:
    """Trimmed, single-spaced, upper-cased employer name as filed (blank -> null)."""
    text = _squash(_expr(column))
    return pl.when(text == "").then(None).otherwise(text)


def normalize_employer_name(column: str | pl.Expr) -> pl.Expr:
    """Key that matches the same employer across spellings.

    Rule: upper case; keep the legal name before 'DBA' / 'D/B/A' / 'D.B.A.'; '&' -> 'AND'; dots and
    apostrophes removed (U.S.A. -> USA); every other punctuation -> space; leading 'THE' and trailing legal
    suffixes (INC, LLC, CORP, CO, ...) removed repeatedly, unless nothing would be left; single spaces.
    """
    text = _squash(_expr(column))
    before_dba = text.str.replace(_DBA_SPLIT.pattern + r".*$", "").str.strip_chars()
    legal = pl.when(before_dba == "").then(text).otherwise(before_dba)
    cleaned = (
        legal.str.replace_all("&", " AND ")
        .str.replace_all(r"[.'’`]", "")
        .str.replace_all(r"[^A-Z0-9]+", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    without_the = cleaned.str.replace(r"^THE\s+", "")
    without_suffix = (" " + without_the).str.replace(_SUFFIX_TAIL, "").str.strip_chars()
    best = pl.when(without_suffix != "").then(without_suffix).otherwise(cleaned)
    return pl.when(best.is_null() | (best == "")).then(None).otherwise(best)


# --- small parsers -------------------------------------------------------------------------------------


def parse_count(column: str | pl.Expr) -> pl.Expr:
    """Whole number from text ('1,234', '12', '12.0'); anything else (12.5, 'n/a', blank) -> null."""
    cleaned = _expr(column).cast(pl.Utf8).str.replace_all(r"[,\s]", "")
    whole = cleaned.str.contains(r"^\d+(\.0*)?$")
    return pl.when(whole).then(cleaned.str.replace(r"\.0*$", "")).cast(pl.Int64, strict=False)


def fiscal_year_from_date(column: str | pl.Expr) -> pl.Expr:
    """US federal fiscal year (Oct 1 starts the next year) of dates written 2015-06-25[ 15:59:29] or 7/10/2013."""
    text = _expr(column).cast(pl.Utf8).str.strip_chars()
    iso = text.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    us = text.str.strptime(pl.Date, "%m/%d/%Y", strict=False)
    date = pl.coalesce(iso, us)
    return (date.dt.year() + (date.dt.month() >= 10).cast(pl.Int32)).cast(pl.Int32)
