"""The joint-estimate cache: a fingerprint that changes with every input and setting, and a lossless round trip."""

from __future__ import annotations

import numpy as np
import polars as pl

from workforce_assets.headcount.posterior import HeadcountEstimate, SUMMARY_SCHEMA
from workforce_assets.pipeline.headcount_assets import _load_joint, _store_joint, estimate_fingerprint
from workforce_assets.pipeline.resources import WarehouseResource


def _frames():
    rated = pl.DataFrame({"item_id": ["a", "b"], "is_ml_expert": [1, 0], "llm_x": [1, 0]})
    samples = pl.DataFrame({"company_id": ["c1", "c1"], "item_id": ["p1", "p2"], "llm_x": [1, None]})
    companies = pl.DataFrame({"company_id": ["c1"], "headcount": [10]})
    return [rated, samples, companies]


def test_fingerprint_changes_with_any_input_or_setting():
    base = estimate_fingerprint(_frames(), n_draws=100, seed=1)
    assert base == estimate_fingerprint(_frames(), n_draws=100, seed=1)
    chunked = _frames()
    chunked[1] = pl.concat([chunked[1].head(1), chunked[1].tail(1)], rechunk=False)
    assert estimate_fingerprint(chunked, n_draws=100, seed=1) == base  # same data, other memory layout
    changed = _frames()
    changed[1] = changed[1].with_columns(pl.col("llm_x").fill_null(0))  # one missing label becomes a 0
    assert estimate_fingerprint(changed, n_draws=100, seed=1) != base
    assert estimate_fingerprint(_frames(), n_draws=101, seed=1) != base
    assert estimate_fingerprint(_frames(), n_draws=100, seed=2) != base


def test_stored_estimate_comes_back_exactly(tmp_path):
    warehouse = WarehouseResource(duckdb_path=str(tmp_path / "w.duckdb"))
    rng = np.random.default_rng(0)
    summary = pl.DataFrame({
        "company_id": ["z", "a", "m"], "n_sampled": [3, 0, 5], "headcount": [10, 20, 30],
        "mean": rng.random(3), "sd": rng.random(3), "q05": [0.0, 1, 2], "q10": [0.0, 1, 2], "q50": [1.0, 2, 3],
        "q90": [2.0, 3, 4], "q95": [3.0, 4, 5], "p_at_least_one": [0.5, 1, 1], "ml_share": rng.random(3),
        "prior_only": [False, True, False], "method": ["saturated/semi_supervised"] * 3,
    }, schema=SUMMARY_SCHEMA)
    estimate = HeadcountEstimate(summary=summary, draws=rng.integers(0, 30, (3, 7)))
    assert _load_joint(warehouse, "f1") is None
    _store_joint(warehouse, "f1", estimate)
    back = _load_joint(warehouse, "f1")
    assert back.summary.equals(summary)  # order kept (not sorted by company_id)
    assert np.array_equal(back.draws, estimate.draws)
    assert _load_joint(warehouse, "other") is None
    _store_joint(warehouse, "f2", estimate)
    assert _load_joint(warehouse, "f1") is None and warehouse.read("headcount.joint_estimate").height == 3
