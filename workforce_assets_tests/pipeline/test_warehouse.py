"""The warehouse's multi-table write: all tables or none (issue 10: a crash between an asset's two writes
left a new summary beside old draws)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from workforce_assets import warehouse


def test_write_tables_is_all_or_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse.write_tables(path, [("headcount.summary", pl.DataFrame({"batch": ["b1"], "mean": [1.0]}), "batch", "b1"),
                                  ("headcount.draws", pl.DataFrame({"batch": ["b1"], "draw": [1]}), "batch", "b1")])
    # the second write fails inside the transaction (text into an integer column): the first is rolled back
    with pytest.raises(duckdb.Error):
        warehouse.write_tables(path, [
            ("headcount.summary", pl.DataFrame({"batch": ["b1"], "mean": [2.0]}), "batch", "b1"),
            ("headcount.draws", pl.DataFrame({"batch": ["b1"], "draw": ["not a number"]}), "batch", "b1"),
        ])
    assert warehouse.read_table(path, "headcount.summary")["mean"].to_list() == [1.0]
    assert warehouse.read_table(path, "headcount.draws")["draw"].to_list() == [1]


def test_partition_replace_touches_only_its_batch(tmp_path):
    path = tmp_path / "w.duckdb"
    for batch, values in (("b1", [1, 2]), ("b2", [3])):
        warehouse.write_tables(path, [("a.t", pl.DataFrame({"batch": [batch] * len(values), "v": values}), "batch", batch)])
    warehouse.write_tables(path, [("a.t", pl.DataFrame({"batch": ["b1"], "v": [9]}), "batch", "b1")])
    assert sorted(warehouse.read_table(path, "a.t")["v"].to_list()) == [3, 9]


def test_wide_draw_lists_round_trip_and_rerun(tmp_path):
    """Issue 10: 4,000 draws per company in a fixed-width BIGINT[4000] column failed every later read with a
    34 GB Arrow allocation; the draws tables now hold variable-length lists."""
    import numpy as np

    path = tmp_path / "w.duckdb"
    draws = np.random.default_rng(0).integers(0, 1_000, (50, 4_000))
    frame = pl.DataFrame({"company_id": [f"c{i}" for i in range(50)], "batch": ["b1"] * 50,
                          "draws": pl.Series(draws.tolist(), dtype=pl.List(pl.Int64))})
    for _ in range(2):  # a rerun replaces the partition
        warehouse.write_tables(path, [("headcount.posterior_draws", frame, "batch", "b1")])
    back = warehouse.read_table(path, "headcount.posterior_draws")
    assert back.height == 50 and np.array_equal(np.array(back["draws"].to_list()), draws)
