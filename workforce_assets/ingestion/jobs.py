"""US DOL OFLC disclosure files (H-1B LCA, H-2A, H-2B, PERM) or a normalised csv -> one job-record table.

Every file is read as strings and its columns mapped onto the public job columns: first by the published
layouts (exact header spellings), otherwise by column roles (:func:`infer_roles`: header synonyms checked
against the values), so older and future layouts load. A file whose roles cannot be found is quarantined
as a file (one row naming the missing roles) while the other files load. Only a row without employer or
job title is quarantined; a bad state or wage loads with ``worksite_state='UNK'`` / ``annual_wage`` null
and a ``wage_flag``, because the labor models decide. A file without a status column gives status
``unknown`` (used by the models, counted).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .normalize import (
    MAX_PLAUSIBLE_ANNUAL_WAGE,
    MIN_PLAUSIBLE_ANNUAL_WAGE,
    UNKNOWN_STATE,
    annualize_wage,
    employer_display_name,
    fiscal_year_from_date,
    UNKNOWN_STATUS,
    normalize_case_status,
    normalize_employer_name,
    normalize_state,
    normalize_wage_unit,
    parse_count,
    parse_money,
    wage_flag,
)
from .result import LoadResult, empty_quarantine, quarantine_rows
from .tables import ROW_NUMBER, input_columns, quarantine_from, read_table

#: job files parsed at a time (see load_job_records)
READ_THREADS = 2

JOB_SCHEMA = {
    "employer_name": pl.Utf8,
    "employer_key": pl.Utf8,
    "job_title": pl.Utf8,
    "soc_code": pl.Utf8,
    "soc_title": pl.Utf8,
    "wage_level": pl.Utf8,
    "worksite_state": pl.Utf8,
    "wage_rate": pl.Float64,
    "wage_unit": pl.Utf8,
    "annual_wage": pl.Float64,
    "wage_flag": pl.Utf8,
    "workers": pl.Int64,
    "case_status": pl.Utf8,
    "case_status_raw": pl.Utf8,
    "visa_class": pl.Utf8,
    "fiscal_year": pl.Int32,
    "is_exact_duplicate": pl.Boolean,
    "source_file": pl.Utf8,
    "row_number": pl.Int64,
}
"""Public column contract of job records (names and types)."""

RAW_PREFIX = "__raw__"
VISA_CLASSES = ("H-1B", "H-2A", "H-2B", "PERM", "unknown")
JOB_FILE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls")

HOURLY_BELOW = 500.0
"""Layouts without a unit column (scraped LCA 'base salary'): a value under $500 can only be an hourly rate."""
ANNUAL_FROM = 10_000.0
"""... and from $10,000 up it is an annual salary; in between (weekly? bi-weekly? monthly?) it is ambiguous."""


@dataclass(frozen=True)
class Layout:
    """A published column layout: for each job field, the header spellings it may have (first present wins)."""

    name: str
    description: str
    required: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    visa_class: str | None = None  # None: from the file's visa column, else its name (H-2A / H-2B), else unknown
    unit_inferred: bool = False
    notes: tuple[str, ...] = field(default=())


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        name="normalized",
        description="normalised csv of this project",
        required=("employer_name", "job_title", "worksite_state", "wage_rate", "wage_unit"),
        columns={
            "employer_name": ("EMPLOYER_NAME",), "job_title": ("JOB_TITLE",), "worksite_state": ("WORKSITE_STATE",),
            "wage_rate": ("WAGE_RATE",), "wage_unit": ("WAGE_UNIT",), "soc_code": ("SOC_CODE",),
            "soc_title": ("SOC_TITLE",), "workers": ("WORKERS",), "case_status": ("CASE_STATUS",),
            "fiscal_year": ("FISCAL_YEAR",), "visa_class": ("VISA_CLASS",), "wage_level": ("WAGE_LEVEL",),
        },
    ),
    Layout(
        name="perm",
        description="PERM disclosure (FY2008+ '_9089' columns and FY2020+ names)",
        required=("employer_name", "job_title", "worksite_state", "wage_rate", "wage_unit"),
        columns={
            "employer_name": ("EMPLOYER_NAME",),
            "job_title": ("JOB_TITLE", "JOB_INFO_JOB_TITLE", "PW_JOB_TITLE_9089", "PW_JOB_TITLE"),
            "worksite_state": ("WORKSITE_STATE", "JOB_INFO_WORK_STATE", "PRIMARY_WORKSITE_STATE"),
            "wage_rate": ("WAGE_OFFER_FROM", "WAGE_OFFER_FROM_9089", "WAGE_OFFERED_FROM_9089"),
            "wage_unit": ("WAGE_OFFER_UNIT_OF_PAY", "WAGE_OFFER_UNIT_OF_PAY_9089", "WAGE_OFFERED_UNIT_OF_PAY_9089"),
            "soc_code": ("PW_SOC_CODE", "SOC_CODE"), "soc_title": ("PW_SOC_TITLE", "SOC_TITLE"),
            "case_status": ("CASE_STATUS",), "fiscal_year": ("FISCAL_YEAR", "FY"),
            "date": ("DECISION_DATE", "CASE_RECEIVED_DATE"),
        },
        visa_class="PERM",
    ),
    Layout(
        name="lca_fy2008_2014",
        description="H-1B LCA disclosure, FY2008-FY2014 ('LCA_CASE_' columns)",
        required=("employer_name", "job_title", "worksite_state", "wage_rate", "wage_unit"),
        columns={
            "employer_name": ("LCA_CASE_EMPLOYER_NAME",), "job_title": ("LCA_CASE_JOB_TITLE",),
            "worksite_state": ("LCA_CASE_WORKLOC1_STATE", "WORK_LOCATION_STATE1"),
            "wage_rate": ("LCA_CASE_WAGE_RATE_FROM", "WAGE_RATE_1"),
            "wage_unit": ("LCA_CASE_WAGE_RATE_UNIT", "RATE_PER_1"),
            "soc_code": ("LCA_CASE_SOC_CODE",), "soc_title": ("LCA_CASE_SOC_NAME",),
            "workers": ("TOTAL_WORKERS", "LCA_CASE_NUMBER_OF_WORKERS"), "case_status": ("STATUS", "CASE_STATUS"),
            "visa_class": ("VISA_CLASS",), "fiscal_year": ("FISCAL_YEAR", "FY"),
            "date": ("DECISION_DATE", "LCA_CASE_SUBMIT"),
        },
        visa_class="H-1B",
    ),
    Layout(
        name="lca",
        description="H-1B LCA disclosure, FY2015+ (FY2020+ adds '_1' worksite columns and SOC_TITLE)",
        required=("employer_name", "job_title", "worksite_state", "wage_rate", "wage_unit"),
        columns={
            "employer_name": ("EMPLOYER_NAME",), "job_title": ("JOB_TITLE",),
            "worksite_state": ("WORKSITE_STATE", "WORKSITE_STATE_1"),
            "wage_rate": ("WAGE_RATE_OF_PAY_FROM", "WAGE_RATE_OF_PAY_FROM_1", "WAGE_RATE_OF_PAY"),
            "wage_unit": ("WAGE_UNIT_OF_PAY", "WAGE_UNIT_OF_PAY_1"),
            "soc_code": ("SOC_CODE",), "soc_title": ("SOC_TITLE", "SOC_NAME"),
            "wage_level": ("PW_WAGE_LEVEL", "PW_WAGE_LEVEL_1", "PW_LEVEL"),
            "workers": ("TOTAL_WORKER_POSITIONS", "TOTAL_WORKERS"), "case_status": ("CASE_STATUS", "STATUS"),
            "visa_class": ("VISA_CLASS",), "fiscal_year": ("FISCAL_YEAR", "FY"),
            "date": ("DECISION_DATE", "RECEIVED_DATE", "CASE_SUBMITTED"),
        },
        visa_class="H-1B",
    ),
    Layout(
        name="h2",
        description="H-2A / H-2B disclosure, FY2014-FY2019 (worksite state column optional)",
        required=("employer_name", "job_title", "wage_rate", "wage_unit"),
        columns={
            "employer_name": ("EMPLOYER_NAME",), "job_title": ("JOB_TITLE",),
            "worksite_state": ("WORKSITE_STATE", "WORKSITE_LOCATION_STATE", "ALIEN_WORK_STATE", "EMPLOYEE_WORK_STATE"),
            "wage_rate": ("BASIC_RATE_OF_PAY", "BASIC_WAGE_RATE_FROM", "BASIC_WAGE_RATE"),
            "wage_unit": ("BASIC_UNIT_OF_PAY", "PAY_RANGE_UNIT", "BASIC_WAGE_RATE_UNIT"),
            "soc_code": ("SOC_CODE", "SOC_CODE_ID"), "soc_title": ("SOC_TITLE", "SOC_NAME"),
            "workers": ("NBR_WORKERS_CERTIFIED", "TOTAL_WORKERS_H_2A_CERTIFIED", "TOTAL_WORKERS_CERTIFIED"),
            "case_status": ("CASE_STATUS",), "visa_class": ("VISA_CLASS", "VISA_TYPE"),
            "fiscal_year": ("FISCAL_YEAR", "FY"), "date": ("DECISION_DATE", "RECENT_DECISION_DATE"),
        },
    ),
    Layout(
        name="lca_scraped",
        description="scraped H-1B LCA extract (employer, submit date, case status, job title, base salary, state)",
        required=("employer_name", "job_title", "worksite_state", "wage_rate"),
        columns={
            "employer_name": ("EMPLOYER",), "job_title": ("JOB_TITLE",), "worksite_state": ("STATE",),
            "wage_rate": ("BASE_SALARY",), "case_status": ("CASE_STATUS",), "date": ("SUBMIT_DATE",),
        },
        visa_class="H-1B",
        unit_inferred=True,
        notes=("no unit column: a wage under $500 is taken as hourly (flag unit_inferred_hour), from $10,000 as "
               "annual, in between the unit is unknown (flag unit_ambiguous, annual_wage null)",),
    ),
)


class LayoutNotRecognised(ValueError):
    """No published layout matches and the required roles cannot be inferred; the file is quarantined."""

    def __init__(self, message: str, missing_roles: list[str]):
        super().__init__(message)
        self.missing_roles = missing_roles


REQUIRED_ROLES = ("employer_name", "job_title")

# Column roles: header patterns (on the upper-cased, underscore-joined header), most specific first, and
# the test a sample of the column's values must pass. Hand-written: the synonyms are DOL's own spellings
# across 20 years of layouts (FY2002 `NAME`/`STATE_1`/`RATE_PER_1`/`APPROVAL_STATUS` to FY2024's `_1`
# columns); no library knows them.
_EXCLUDED = r"(AGENT|ATTORNEY|LAWYER|CONTACT|POC|PREPARER|PW_|PREVAILING|SECONDARY|ALIEN_|FOREIGN|SUCC_)"
ROLE_PATTERNS: dict[str, tuple[str, ...]] = {
    "employer_name": (r"EMPLOYER_NAME", r"(LCA_CASE_)?EMPLOYER(_BUSINESS|_LEGAL)?_NAME", r"EMPLOYER",
                      r"(COMPANY|ORGANI[SZ]ATION|PETITIONER)(_NAME)?", r"NAME", r".*EMPLOYER.*NAME.*"),
    "job_title": (r"JOB_TITLE", r".*JOB_TITLE.*", r"(POSITION|OCCUPATION)(_TITLE)?", r"TITLE"),
    "worksite_state": (r"WORKSITE_STATE(_1)?", r".*WORK(SITE)?_?(LOCATION_)?STATE(_?1)?", r"STATE(_?1)?",
                       r".*LOCATION.*STATE.*", r".*STATE"),
    "wage_rate": (r"WAGE_RATE_OF_PAY(_FROM)?(_1)?", r"WAGE_RATE(_FROM)?(_?1)?", r".*WAGE.*FROM.*",
                  r"(BASE_)?SALARY", r".*RATE_OF_PAY.*", r".*WAGE(_RATE)?", r".*SALARY.*"),
    "wage_unit": (r".*UNIT.*PAY.*", r"RATE_PER(_?1)?", r".*WAGE.*UNIT.*", r".*PAY.*UNIT.*", r".*(UNIT|PER)"),
    "case_status": (r"CASE_STATUS", r"(APPROVAL_|CERTIFICATION_)?STATUS", r".*STATUS"),
    "workers": (r".*WORKERS.*CERTIFIED.*", r"TOTAL_WORKER.*", r".*N(UM)?BR?_.*WORKERS.*", r".*WORKERS.*"),
    "soc_code": (r"(PW_)?SOC_CODE", r".*SOC.*CODE.*", r"OCCUPATIONAL_CODE"),
    "soc_title": (r"(PW_)?SOC_(TITLE|NAME)", r".*SOC.*(TITLE|NAME).*"),
    "wage_level": (r"PW_WAGE_LEVEL(_1)?", r"(PW_)?(WAGE_)?LEVEL(_1)?", r".*WAGE_LEVEL.*"),
    "visa_class": (r"VISA_(CLASS|TYPE)", r"PROGRAM"),
    "fiscal_year": (r"FISCAL_YEAR", r"FY"),
    "date": (r".*DECISION_DATE.*", r".*(SUBMIT|RECEIVED|CERTIFIED|BEGIN|START).*DATE.*", r".*DATE.*"),
}
# roles whose header may mention a prevailing wage, a foreign worker, ... without being about something else
_MAY_MENTION_EXCLUDED = ("soc_code", "soc_title", "wage_level")
# the employer's own address is not the worksite: better UNK than the head office's state
_ROLE_EXCLUDED = {"worksite_state": r"EMPLOYER|HEADQUARTER|MAILING"}
_CONFORM_SHARE = 0.6  # share of a sample of non-blank values that must look like the role
_SAMPLE = 500


def normalize_wage_level(value: pl.Expr) -> pl.Expr:
    """The prevailing-wage level of an LCA (DOL's experience grading) as ``I``..``IV``: 'Level II', 'II', '2',
    'level 2' -> 'II'; anything else (blank, 'N/A', an OES survey name) -> null (no evidence)."""
    text = value.cast(pl.Utf8).str.strip_chars().str.to_uppercase().str.replace(r"^LEVEL\s*", "")
    return text.replace_strict({"I": "I", "II": "II", "III": "III", "IV": "IV", "1": "I", "2": "II", "3": "III",
                                "4": "IV"}, default=None, return_dtype=pl.Utf8)


def _conforming_share(values: pl.Series, role: str) -> float:
    """Share of ``values`` (non-blank strings) that look like ``role``."""
    if values.is_empty():
        return 0.0
    frame = values.to_frame("v")
    if role == "worksite_state":
        ok = normalize_state("v") != UNKNOWN_STATE
    elif role == "wage_rate":
        ok = parse_money("v").is_not_null()
    elif role == "wage_unit":
        ok = normalize_wage_unit("v").is_not_null()
    elif role == "case_status":
        ok = normalize_case_status("v") != "other"
    elif role == "workers":
        ok = parse_count("v").is_not_null()
    elif role == "soc_code":
        ok = pl.col("v").str.contains(r"^\s*\d{2}-?\d{4}")
    elif role == "wage_level":
        ok = normalize_wage_level(pl.col("v")).is_not_null()
    elif role == "fiscal_year":
        ok = parse_count("v").is_between(1990, 2100)
    elif role == "date":
        ok = fiscal_year_from_date(pl.col("v")).is_not_null()
    elif role == "visa_class":
        ok = normalize_visa_class(pl.col("v")) != "unknown"
    else:  # names and titles: mostly letters, not numbers or dates
        ok = pl.col("v").str.contains(r"[A-Za-z]{2}") & ~pl.col("v").str.contains(r"^[\d\s.,$/:-]+$")
    return float(frame.select(ok.fill_null(False).mean()).item())


def infer_roles(frame: pl.DataFrame, columns: list[str], source: str) -> tuple[Layout, dict[str, str], dict]:
    """Column roles of a file no published layout matches: header synonyms confirmed by the values.

    For each role (in the order of ``ROLE_PATTERNS``), the first pattern with a column not yet taken whose
    sampled values conform (>= 60%) wins. Returns an ``inferred`` layout (the unit is inferred from the
    amount when no unit column is found), the mapping, and the evidence per role. Raises
    :class:`LayoutNotRecognised` naming the required roles (employer, job title) that were not found.
    """
    keys = {column: _header_key(column) for column in columns}
    mapping: dict[str, str] = {}
    evidence: dict[str, str] = {}
    for role, patterns in ROLE_PATTERNS.items():
        for pattern in patterns:
            regex = re.compile(f"^{pattern}$")
            candidates = [c for c in columns if c not in mapping.values() and regex.match(keys[c])
                          and (role in _MAY_MENTION_EXCLUDED or not re.search(_EXCLUDED, keys[c]))
                          and not re.search(_ROLE_EXCLUDED.get(role, r"^$"), keys[c])]
            chosen = None
            for column in candidates:
                values = frame.get_column(column).drop_nulls()
                values = values.filter(values.str.strip_chars() != "").head(_SAMPLE)
                share = _conforming_share(values, role)
                if share >= _CONFORM_SHARE:
                    chosen = column
                    evidence[role] = f"header {column!r} (pattern {pattern}); {share:.0%} of {values.len()} sampled values fit"
                    break
            if chosen is not None:
                mapping[role] = chosen
                break
    missing = [role for role in REQUIRED_ROLES if role not in mapping]
    if missing:
        raise LayoutNotRecognised(
            f"{source}: no published layout matches and the columns for {', '.join(missing)} could not be "
            f"inferred from the headers and values. Columns present: {columns[:40]}"
            + (" ..." if len(columns) > 40 else ""), missing)
    notes = []
    if "wage_unit" not in mapping and "wage_rate" in mapping:
        notes.append("no wage unit column: a wage under $500 is taken as hourly, from $10,000 as annual, "
                     "in between unknown (flag unit_ambiguous)")
    if "wage_rate" not in mapping:
        notes.append("no wage column: annual_wage is null for every row")
    if "case_status" not in mapping:
        notes.append("no case status column: every row has case_status unknown (used by the models, counted)")
    layout = Layout(name="inferred", description="column roles inferred from header synonyms and values",
                    required=REQUIRED_ROLES, columns={role: (column,) for role, column in mapping.items()},
                    unit_inferred="wage_unit" not in mapping, notes=tuple(notes))
    return layout, mapping, evidence


def _header_key(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", str(name).upper()).strip("_")


def detect_layout(columns: list[str], source: str) -> tuple[Layout, dict[str, str]]:
    """The first published layout whose required fields are all present, and field -> source column.

    Raises :class:`LayoutNotRecognised` naming the columns the closest layout lacks (the loader then
    infers the columns' roles, :func:`infer_roles`).
    """
    by_key = {}
    for column in columns:
        by_key.setdefault(_header_key(column), column)
    best: tuple[int, Layout, list[str]] | None = None
    for layout in LAYOUTS:
        mapping = {
            field_name: next(by_key[c] for c in candidates if c in by_key)
            for field_name, candidates in layout.columns.items()
            if any(c in by_key for c in candidates)
        }
        lacking = [f for f in layout.required if f not in mapping]
        if not lacking:
            return layout, mapping
        found = len(layout.required) - len(lacking)
        if best is None or found > best[0]:
            best = (found, layout, lacking)
    _, layout, lacking = best
    wanted = "; ".join(f"{f}: one of {' / '.join(layout.columns[f])}" for f in lacking)
    raise LayoutNotRecognised(
        f"{source}: job file layout not recognised. Closest layout '{layout.name}' ({layout.description}) "
        f"lacks columns for {wanted}. Columns present: {columns}", lacking
    )


def normalize_visa_class(column: str | pl.Expr) -> pl.Expr:
    """'H-1B', 'H1B1 Chile' -> H-1B; 'H-2A' -> H-2A; 'H-2B' -> H-2B; 'PERM' -> PERM; other (E-3, blank) -> unknown."""
    key = (pl.col(column) if isinstance(column, str) else column).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    return (
        pl.when(key.str.starts_with("H1B")).then(pl.lit("H-1B"))
        .when(key.str.starts_with("H2A")).then(pl.lit("H-2A"))
        .when(key.str.starts_with("H2B")).then(pl.lit("H-2B"))
        .when(key.str.starts_with("PERM")).then(pl.lit("PERM"))
        .otherwise(pl.lit("unknown"))
    )


def _visa_from_name(name: str) -> str:
    squashed = re.sub(r"[^A-Z0-9]", "", name.upper())
    for code, visa in (("H2A", "H-2A"), ("H2B", "H-2B"), ("H1B", "H-1B"), ("PERM", "PERM")):
        if code in squashed:
            return visa
    return "unknown"


def _fiscal_year_from_name(name: str) -> int | None:
    match = re.search(r"FY[ _\-]?(\d{4}|\d{2})(?!\d)", name, flags=re.IGNORECASE)
    if not match:
        return None
    year = int(match.group(1))
    return year + 2000 if year < 100 else year


def _text(mapping: dict[str, str], field_name: str) -> pl.Expr:
    return pl.col(mapping[field_name]) if field_name in mapping else pl.lit(None, dtype=pl.Utf8)


def _wage_stages(layout: Layout, mapping: dict[str, str]) -> list[list[pl.Expr]]:
    """Wage columns in dependent stages (rate -> unit -> annual -> flag), each computed once."""
    rate = pl.col("wage_rate")
    if layout.unit_inferred:
        unit = (
            pl.when(rate < HOURLY_BELOW).then(pl.lit("Hour"))
            .when(rate >= ANNUAL_FROM).then(pl.lit("Year"))
            .otherwise(pl.lit(None, dtype=pl.Utf8))
        )
    else:
        unit = normalize_wage_unit(_text(mapping, "wage_unit"))
    flag = wage_flag("__rate_text", "wage_rate", "wage_unit", "annual_wage")
    if layout.unit_inferred:
        flag = (
            pl.when(rate.is_not_null() & pl.col("wage_unit").is_null()).then(pl.lit("unit_ambiguous"))
            .when(flag.is_not_null()).then(flag)
            .when(pl.col("wage_unit") == "Hour").then(pl.lit("unit_inferred_hour"))
            .otherwise(flag)
        )
    return [
        [_text(mapping, "wage_rate").alias("__rate_text")],
        [parse_money("__rate_text").alias("wage_rate")],
        [unit.alias("wage_unit")],
        [annualize_wage("wage_rate", "wage_unit").alias("annual_wage")],
        [flag.alias("wage_flag")],
    ]


def _job_columns(layout: Layout, mapping: dict[str, str], file_name: str) -> tuple[list[list[pl.Expr]], dict]:
    """Stages of expressions producing the public job columns from one file's raw columns, and how each
    field was sourced. ``employer_key`` is added afterwards, once per distinct name."""
    visa_default = layout.visa_class or _visa_from_name(file_name)
    visa = pl.lit(visa_default)
    if "visa_class" in mapping:
        given = normalize_visa_class(pl.col(mapping["visa_class"]))
        visa = pl.when(pl.col(mapping["visa_class"]).is_null()).then(visa).otherwise(given)

    name_year = _fiscal_year_from_name(file_name)
    year_sources = []
    if "fiscal_year" in mapping:
        year_sources.append(parse_count(pl.col(mapping["fiscal_year"])).cast(pl.Int32))
    if name_year is not None:
        year_sources.append(pl.lit(name_year, dtype=pl.Int32))
    if "date" in mapping:
        year_sources.append(fiscal_year_from_date(pl.col(mapping["date"])))
    fiscal_year = pl.coalesce(year_sources) if year_sources else pl.lit(None, dtype=pl.Int32)
    fiscal_year_source = [
        s for s, present in (
            (f"column {mapping.get('fiscal_year')}", "fiscal_year" in mapping),
            (f"file name (FY{name_year})", name_year is not None),
            (f"federal fiscal year of {mapping.get('date')}", "date" in mapping),
        ) if present
    ]

    status_raw = _text(mapping, "case_status")
    employer = _text(mapping, "employer_name")
    expressions = [
        employer_display_name(employer).alias("employer_name"),
        _text(mapping, "job_title").str.replace_all(r"\s+", " ").alias("job_title"),
        _text(mapping, "soc_code").alias("soc_code"),
        _text(mapping, "soc_title").alias("soc_title"),
        (normalize_wage_level(pl.col(mapping["wage_level"])) if "wage_level" in mapping
         else pl.lit(None, dtype=pl.Utf8)).alias("wage_level"),
        (normalize_state(pl.col(mapping["worksite_state"])) if "worksite_state" in mapping
         else pl.lit(UNKNOWN_STATE)).alias("worksite_state"),
        (parse_count(pl.col(mapping["workers"])) if "workers" in mapping else pl.lit(None, dtype=pl.Int64))
        .alias("workers"),
        (normalize_case_status(status_raw) if "case_status" in mapping else pl.lit(UNKNOWN_STATUS))
        .alias("case_status"),
        status_raw.alias("case_status_raw"),
        visa.alias("visa_class"),
        fiscal_year.alias("fiscal_year"),
    ]
    provenance = {
        "visa_class_default": visa_default,
        "fiscal_year_from": fiscal_year_source or ["none"],
        "notes": list(layout.notes) + ([] if "worksite_state" in mapping else
                                       ["no worksite state column: every row has worksite_state UNK"]),
    }
    return [expressions, *_wage_stages(layout, mapping)], provenance


def _per_distinct(frame: pl.DataFrame, column: str, normaliser) -> pl.Expr:
    """``normaliser`` evaluated once per distinct value of ``column`` (employer names repeat a lot)."""
    distinct = frame.select(pl.col(column).unique().drop_nulls())
    mapping = dict(distinct.with_columns(normaliser(column).alias("__out")).iter_rows())
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.Utf8)


def _load_job_file(path: Path) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    source = f"jobs/{path.name}"
    read = read_table(path)
    frame = read.frame
    original_columns = input_columns(frame)
    try:
        layout, mapping = detect_layout(original_columns, source)
        evidence = {}
    except LayoutNotRecognised:
        layout, mapping, evidence = infer_roles(frame, original_columns, source)
    # raw columns get a prefix so that a raw 'wage_rate' (normalised layout) never meets the output 'wage_rate'
    raw_name = {column: RAW_PREFIX + column for column in original_columns}
    frame = frame.rename(raw_name)
    raw_columns = list(raw_name.values())
    stages, provenance = _job_columns(layout, {f: raw_name[c] for f, c in mapping.items()}, path.name)
    provenance["columns_used"] = dict(sorted(mapping.items()))
    if evidence:
        provenance["role_evidence"] = evidence
    duplicate = (
        pl.struct(raw_columns).is_first_distinct().not_() if raw_columns else pl.lit(False)
    ).alias("is_exact_duplicate")
    jobs = frame.with_columns(duplicate, pl.lit(path.name).alias("source_file"), pl.col(ROW_NUMBER).alias("row_number"))
    for stage in stages:
        jobs = jobs.with_columns(stage)
    jobs = jobs.with_columns(_per_distinct(jobs, "employer_name", normalize_employer_name).alias("employer_key"))
    missing_employer, missing_title = pl.col("employer_name").is_null(), pl.col("job_title").is_null()
    reason = (
        pl.when(missing_employer & missing_title).then(pl.lit("missing employer_name and job_title"))
        .when(missing_employer).then(pl.lit("missing employer_name"))
        .when(missing_title).then(pl.lit("missing job_title"))
    )
    jobs = jobs.with_columns(reason.alias("__reason"))
    rejected = jobs.filter(pl.col("__reason").is_not_null())
    quarantine = (
        quarantine_from(rejected.select(*raw_columns, ROW_NUMBER, "__reason").rename(
            {prefixed: column for column, prefixed in raw_name.items()}), source)
        if rejected.height else empty_quarantine()
    )
    rows = jobs.filter(pl.col("__reason").is_null()).select(list(JOB_SCHEMA)).cast(JOB_SCHEMA)
    if read.rejects.height:  # rows the CSV parser could not split into the header's fields
        quarantine = pl.concat([read.rejects.with_columns(source=pl.lit(source)), quarantine])
    stats = {"layout": layout.name, **_counts(frame.height + read.rejects.height, rows, quarantine), **provenance,
             **read.stats}
    return rows, quarantine, stats


def _counts(n_read: int, rows: pl.DataFrame, quarantine: pl.DataFrame) -> dict:
    flags = rows["wage_flag"].drop_nulls().value_counts(sort=True)
    return {
        "n_read": n_read,
        "n_loaded": rows.height,
        "n_quarantined": quarantine.height,
        "n_exact_duplicates": int(rows["is_exact_duplicate"].sum()),
        "n_unknown_state": int((rows["worksite_state"] == UNKNOWN_STATE).sum()),
        "n_missing_wage": int(rows["annual_wage"].is_null().sum()),
        "n_wage_flagged": int(rows["wage_flag"].is_not_null().sum()),
        "n_status_unknown": int((rows["case_status"] == UNKNOWN_STATUS).sum()),
        "wage_flags": dict(zip(flags["wage_flag"].to_list(), flags["count"].to_list())),
    }


def find_job_files(jobs_dir: Path) -> list[Path]:
    """Job files (.csv, .xlsx, .xlsm, .xls) in ``jobs_dir`` and its sub-folders, in path order.

    Sub-folders are searched because published files are often kept as downloaded (e.g. ``jobs/dol_h2/``);
    skipping them would drop records silently. Hidden files and folders and Excel lock files (``~$...``)
    are skipped; any other file type is an error. A missing folder has no files.
    """
    jobs_dir = Path(jobs_dir)
    if not jobs_dir.is_dir():
        return []
    files = sorted(
        p for p in jobs_dir.rglob("*")
        if p.is_file() and not any(part.startswith((".", "~$")) for part in p.relative_to(jobs_dir).parts)
    )
    unsupported = [p.name for p in files if p.suffix.lower() not in JOB_FILE_SUFFIXES]
    if unsupported:
        raise ValueError(f"jobs/: unsupported file type(s) {unsupported} (use .csv or .xlsx)")
    return files


def load_job_records(paths: list[Path]) -> LoadResult:
    """All job files -> rows with the public job columns (``JOB_SCHEMA``), quarantine, stats.

    Stats: totals (n_read, n_loaded, n_quarantined, n_exact_duplicates, n_unknown_state, n_missing_wage =
    rows without an annual wage, n_wage_flagged), ``layouts`` (file -> layout) and ``files`` (per-file counts
    and the columns used).
    """
    parts, quarantines, per_file, unrecognised = [], [], {}, {}
    paths = [Path(path) for path in paths]

    def attempt(path: Path):
        try:
            return _load_job_file(path), None
        except LayoutNotRecognised as exc:
            return None, exc

    # Files are read two at a time: calamine (xlsx) and polars (csv) parse outside the GIL, so the real DOL
    # files (10 xlsx, 1 csv) load in 2.0 s instead of 3.8 s (benchmarks/job_files_read.py). Results are used in
    # file order.
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        outcomes = list(pool.map(attempt, paths))
    for path, (loaded, exc) in zip(paths, outcomes):
        if loaded is not None:
            rows, quarantine, stats = loaded
        else:  # the file is quarantined as a file; the other files load
            unrecognised[path.name] = {"missing_roles": exc.missing_roles, "error": str(exc)[:600]}
            quarantines.append(quarantine_rows(f"jobs/{path.name}", [0], [f"file not loaded: {str(exc)[:600]}"],
                                               [{"missing_roles": exc.missing_roles}]))
            continue
        parts.append(rows)
        quarantines.append(quarantine)
        per_file[path.name] = stats
    rows = pl.concat(parts) if parts else pl.DataFrame(schema=JOB_SCHEMA)
    quarantine = pl.concat(quarantines) if quarantines else empty_quarantine()
    stats = {
        # a file not loaded is one quarantine row, so it counts as one row read: loaded + quarantined = read
        **_counts(sum(s["n_read"] for s in per_file.values()) + len(unrecognised), rows, quarantine),
        "files_not_loaded": unrecognised,
        "layouts": {name: s["layout"] for name, s in per_file.items()},
        "files": per_file,
        "plausible_annual_wage": [MIN_PLAUSIBLE_ANNUAL_WAGE, MAX_PLAUSIBLE_ANNUAL_WAGE],
    }
    return LoadResult(rows=rows, quarantine=quarantine, stats=stats)
