import numpy as np
import polars as pl
import pytest

from workforce_assets.labor.matrix import (
    build_archetype_matrix,
    cooccurrence,
    cosine_similarity,
    model_records,
    split_archetype,
    to_sparse,
)


def _jobs(rows):
    base = {"employer_key": None, "job_title": "Cook", "soc_code": "35-2014", "soc_title": "Cooks, Restaurant",
            "worksite_state": "CO", "annual_wage": 30000.0, "wage_flag": None, "workers": None,
            "case_status": "certified", "is_exact_duplicate": False}
    records = [base | r for r in rows]
    return pl.DataFrame(records, schema={"employer_key": pl.Utf8, "job_title": pl.Utf8, "soc_code": pl.Utf8,
                                         "soc_title": pl.Utf8, "worksite_state": pl.Utf8, "annual_wage": pl.Float64,
                                         "wage_flag": pl.Utf8, "workers": pl.Int64, "case_status": pl.Utf8,
                                         "is_exact_duplicate": pl.Boolean})


def test_aggregation_counts_workers_and_wages():
    jobs = _jobs([
        {"employer_key": "a", "workers": 3, "annual_wage": 20000.0},
        {"employer_key": "a", "workers": 4, "annual_wage": 40000.0},
        {"employer_key": "a", "workers": None, "annual_wage": 1e9, "wage_flag": "implausible"},
        {"employer_key": "a", "job_title": "Senior Cook", "workers": None},
        {"employer_key": "b", "worksite_state": None},
        {"employer_key": "b", "case_status": "denied", "workers": 50},
        {"employer_key": "b", "is_exact_duplicate": True, "workers": 50},
        {"employer_key": None},
    ])
    matrix = build_archetype_matrix(jobs)
    cells = {r["archetype"] + "@" + r["company_id"]: r for r in matrix.iter_rows(named=True)}
    a_mid = cells["Cooks, Restaurant|unknown|CO@a"]  # SOC occupation by its title; no title cue, no wage level: unknown, never a default mid
    assert a_mid["n_records"] == 3 and a_mid["workers"] == 7 and a_mid["median_annual_wage"] == 30000.0
    assert cells["Cooks, Restaurant|senior|CO@a"]["workers"] is None  # no worker count in the source: null, not 0
    assert cells["Cooks, Restaurant|unknown|UNK@b"]["n_records"] == 1  # missing state kept as UNK
    assert "Cooks, Restaurant|unknown|CO@b" not in cells  # denied and duplicate excluded
    _, stats = model_records(jobs)
    assert stats == {"n_input": 8, "n_used": 5, "n_duplicate": 1, "n_no_employer": 1, "n_not_certified": 1,
                     "n_status_unknown": 0}
    everything = build_archetype_matrix(jobs, certified_only=False)
    assert everything.filter(pl.col("company_id") == "b")["n_records"].sum() == 2


def test_archetype_split_is_literal():
    keys = pl.DataFrame({"archetype": ["cook|mid|CO", "a.b*c|lead|UNK"]})
    parts = keys.select(split_archetype(pl.col("archetype")).alias("p")).unnest("p")
    assert parts.rows() == [("cook", "mid", "CO"), ("a.b*c", "lead", "UNK")]


def test_sparse_statistics_match_dense(synthetic_matrix):
    sparse = to_sparse(synthetic_matrix)
    dense = sparse.observed.toarray()
    assert dense.sum() == synthetic_matrix.height
    np.testing.assert_allclose(cooccurrence(sparse.observed).toarray(), dense.T @ dense)
    pop = dense.sum(axis=0)
    expected = (dense.T @ dense) / np.sqrt(np.outer(pop, pop))
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(cosine_similarity(sparse.observed).toarray(), expected, rtol=1e-5)
    assert (sparse.roles[sparse.archetype_role] == np.array([a.split("|")[0] for a in sparse.archetypes])).all()


def test_missing_columns_is_a_clear_error():
    with pytest.raises(ValueError, match="lack columns"):
        build_archetype_matrix(pl.DataFrame({"employer_key": ["a"]}))
