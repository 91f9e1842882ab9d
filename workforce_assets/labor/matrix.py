"""The company x archetype matrix (archetype = role | seniority | state) and its sparse forms.

Why sparse: the original matrix is 25k companies x 8k archetypes with 0.03% of cells observed; every
statistic here (popularity, company size, co-occurrence) is computed on ``scipy.sparse`` so memory and time
grow with observed cells, not with the 200 million cells of the full grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from workforce_assets.labor.roles import add_role_and_seniority

#: Case statuses that count as an observed position when ``certified_only`` (the default).
CERTIFIED_STATUSES = ("certified", "certified_withdrawn")
#: Records the models use when ``certified_only``: certified ones, and those whose file has no status
#: (``unknown``: nothing says they were not certified), counted as ``n_status_unknown`` in the stats.
USED_STATUSES = (*CERTIFIED_STATUSES, "unknown")
ARCHETYPE_SEPARATOR = "|"
UNKNOWN_STATE = "UNK"
#: wage flags that only note how a wage was read (the annual wage is still trusted); any other flag excludes it
INFORMATIONAL_WAGE_FLAGS = ("unit_inferred_hour",)


def usable_wage(frame_columns) -> pl.Expr:
    """Annual wage where it is trusted (no flag, or an informational one), else null."""
    wage = pl.col("annual_wage").cast(pl.Float64) if "annual_wage" in frame_columns else pl.lit(None, dtype=pl.Float64)
    if "wage_flag" not in frame_columns:
        return wage
    trusted = pl.col("wage_flag").is_null() | pl.col("wage_flag").is_in(INFORMATIONAL_WAGE_FLAGS)
    return pl.when(trusted & (wage > 0)).then(wage)

MATRIX_SCHEMA = {
    "company_id": pl.Utf8,
    "role": pl.Utf8,
    "seniority": pl.Utf8,
    "state": pl.Utf8,
    "archetype": pl.Utf8,
    "n_records": pl.Int64,
    "workers": pl.Int64,
    "median_annual_wage": pl.Float64,
}


def archetype_key(role: pl.Expr, seniority: pl.Expr, state: pl.Expr) -> pl.Expr:
    """``role|seniority|state``; split it back with :func:`split_archetype` (a literal split, never a regex)."""
    return pl.concat_str([role, seniority, state], separator=ARCHETYPE_SEPARATOR)


def split_archetype(archetype: pl.Expr) -> pl.Expr:
    """Struct of role, seniority, state from an archetype key (literal '|' split; the original's regex bug)."""
    return archetype.str.split_exact(ARCHETYPE_SEPARATOR, 2).struct.rename_fields(["role", "seniority", "state"])


def model_records(jobs: pl.DataFrame, certified_only: bool = True) -> tuple[pl.DataFrame, dict[str, int]]:
    """Records that feed the models, and how many were left out and why (for asset metadata).

    Left out: exact duplicates (``is_exact_duplicate``; one copy stays), records without an employer key,
    and, when ``certified_only``, records whose status is known and not certified (status ``unknown`` is
    used and counted in ``n_status_unknown``). Role and seniority are added when the input does not carry
    them yet.
    """
    missing = {"employer_key", "job_title", "worksite_state", "case_status"} - set(jobs.columns)
    if missing:
        raise ValueError(f"job records lack columns {sorted(missing)}")
    if not {"role", "seniority"} <= set(jobs.columns):
        jobs = add_role_and_seniority(jobs)
    n_input = jobs.height
    duplicate = pl.col("is_exact_duplicate").fill_null(False) if "is_exact_duplicate" in jobs.columns else pl.lit(False)
    no_employer = pl.col("employer_key").is_null() | (pl.col("employer_key").cast(pl.Utf8).str.strip_chars() == "")
    not_certified = (
        ~pl.col("case_status").is_in(USED_STATUSES).fill_null(False) if certified_only else pl.lit(False)
    )
    flagged = jobs.with_columns(_dup=duplicate, _noemp=no_employer, _notcert=not_certified)
    counts = flagged.select(
        n_duplicate=pl.col("_dup").sum(),
        n_no_employer=(~pl.col("_dup") & pl.col("_noemp")).sum(),
        n_not_certified=(~pl.col("_dup") & ~pl.col("_noemp") & pl.col("_notcert")).sum(),
    ).row(0, named=True)
    kept = flagged.filter(~pl.col("_dup") & ~pl.col("_noemp") & ~pl.col("_notcert")).drop("_dup", "_noemp", "_notcert")
    stats = {"n_input": n_input, "n_used": kept.height, **{k: int(v) for k, v in counts.items()},
             "n_status_unknown": int((kept["case_status"] == "unknown").sum())}
    kept = kept.with_columns(
        company_id=pl.col("employer_key").cast(pl.Utf8),
        state=pl.col("worksite_state").cast(pl.Utf8).fill_null(UNKNOWN_STATE),
    )
    return kept, stats


def build_archetype_matrix(jobs: pl.DataFrame, certified_only: bool = True) -> pl.DataFrame:
    """One row per observed (company, role, seniority, state) with counts, workers and median annual wage.

    ``workers`` is the sum of the source's worker counts and null where no record of the cell has one
    (H-1B LCAs carry none); ``median_annual_wage`` uses only trusted wages (:func:`usable_wage`).
    """
    records, _ = model_records(jobs, certified_only=certified_only)
    if records.is_empty():
        return pl.DataFrame(schema=MATRIX_SCHEMA)
    workers = pl.col("workers").cast(pl.Int64) if "workers" in records.columns else pl.lit(None, dtype=pl.Int64)
    matrix = (
        records.with_columns(_workers=workers, _wage=usable_wage(records.columns))
        .group_by("company_id", "role", "seniority", "state")
        .agg(
            n_records=pl.len().cast(pl.Int64),
            workers=pl.when(pl.col("_workers").is_not_null().any()).then(pl.col("_workers").sum()),
            median_annual_wage=pl.col("_wage").median(),
        )
        .with_columns(archetype=archetype_key(pl.col("role"), pl.col("seniority"), pl.col("state")))
        .sort("company_id", "archetype")
    )
    return matrix.select(list(MATRIX_SCHEMA)).cast(MATRIX_SCHEMA)


@dataclass(frozen=True)
class SparseArchetypeMatrix:
    """Binary company x archetype CSR matrix with its row and column labels and archetype attributes."""

    observed: sp.csr_matrix  # float32 0/1, companies x archetypes
    companies: np.ndarray  # company_id per row
    archetypes: np.ndarray  # archetype key per column
    archetype_role: np.ndarray  # int code per column into ``roles``
    archetype_seniority: np.ndarray
    archetype_state: np.ndarray
    roles: np.ndarray
    seniorities: np.ndarray
    states: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.observed.shape

    def with_observed(self, observed: sp.csr_matrix) -> "SparseArchetypeMatrix":
        """Same labels, other cells (e.g. the unmasked training matrix)."""
        if observed.shape != self.observed.shape:
            raise ValueError("observed matrix shape differs from the labels")
        return SparseArchetypeMatrix(
            observed.tocsr().astype(np.float32), self.companies, self.archetypes, self.archetype_role,
            self.archetype_seniority, self.archetype_state, self.roles, self.seniorities, self.states,
        )


def to_sparse(matrix: pl.DataFrame) -> SparseArchetypeMatrix:
    """Binary CSR form of an archetype matrix (any frame with company_id and archetype); labels sorted."""
    if not {"company_id", "archetype"} <= set(matrix.columns):
        raise ValueError("to_sparse needs company_id and archetype columns")
    cells = matrix.select("company_id", "archetype").unique()
    companies = np.sort(cells["company_id"].unique().to_numpy().astype(str))
    archetypes = np.sort(cells["archetype"].unique().to_numpy().astype(str))
    rows = np.searchsorted(companies, cells["company_id"].to_numpy().astype(str))
    cols = np.searchsorted(archetypes, cells["archetype"].to_numpy().astype(str))
    observed = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(companies), len(archetypes))
    )
    parts = pl.DataFrame({"archetype": archetypes}).select(split_archetype(pl.col("archetype")).alias("p")).unnest("p")
    codes = {}
    labels = {}
    for name in ("role", "seniority", "state"):
        values = parts[name].to_numpy().astype(str)
        labels[name], codes[name] = np.unique(values, return_inverse=True)
    return SparseArchetypeMatrix(
        observed, companies, archetypes, codes["role"], codes["seniority"], codes["state"],
        labels["role"], labels["seniority"], labels["state"],
    )


def archetype_popularity(observed: sp.csr_matrix) -> np.ndarray:
    """Number of companies where each archetype is observed."""
    return np.asarray(observed.sum(axis=0)).ravel()


def company_size(observed: sp.csr_matrix) -> np.ndarray:
    """Number of archetypes observed at each company."""
    return np.asarray(observed.sum(axis=1)).ravel()


def cooccurrence(observed: sp.csr_matrix) -> sp.csr_matrix:
    """Archetype x archetype co-occurrence counts (companies holding both), diagonal = popularity."""
    binary = observed.astype(np.float32)
    return (binary.T @ binary).tocsr()


def cosine_similarity(observed: sp.csr_matrix, drop_diagonal: bool = True) -> sp.csr_matrix:
    """Item-item cosine similarity of archetypes from co-occurrence (sparse; self-similarity removed)."""
    co = cooccurrence(observed).tocoo()
    pop = archetype_popularity(observed).astype(np.float64)
    norm = np.sqrt(np.maximum(pop, 1.0))
    values = co.data / (norm[co.row] * norm[co.col])
    keep = co.row != co.col if drop_diagonal else np.ones_like(co.row, dtype=bool)
    return sp.csr_matrix(
        (values[keep].astype(np.float32), (co.row[keep], co.col[keep])), shape=co.shape
    )


def group_indicator(codes: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """archetypes x groups one-hot (e.g. archetype -> its role), to aggregate rows by role/state sparsely."""
    n = len(codes)
    return sp.csr_matrix((np.ones(n, dtype=np.float32), (np.arange(n), codes)), shape=(n, n_groups))


MIN_TRAINING_SHARE = 0.05


def training_set_problem(model: str, n_input: int, n_training: int, left_out: dict[str, int] | None = None,
                         min_share: float = MIN_TRAINING_SHARE) -> str | None:
    """Why a model's training set cannot be trusted (empty, or under ``min_share`` of the job records
    read), naming what left the records out; None when it is fine."""
    reasons = ", ".join(f"{v:,} {k.removeprefix('n_').replace('_', ' ')}" for k, v in (left_out or {}).items() if v)
    because = f" (left out: {reasons})" if reasons else ""
    if n_input == 0:
        return f"{model}: no job records were loaded, so there is nothing to train on"
    if n_training == 0:
        return f"{model}: 0 of {n_input:,} job records are usable for training{because}"
    if n_training < min_share * n_input:
        return (f"{model}: only {n_training:,} of {n_input:,} job records ({n_training / n_input:.1%}) are usable "
                f"for training, under {min_share:.0%}{because}")
    return None
