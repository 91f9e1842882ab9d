"""The original log-debias estimator, reproduced exactly, and method counts from employee samples."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workforce_assets.headcount.log_debias import log_debias, method_biases, method_counts_from_samples

FILTERS = ["filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"]
LLMS = ["claude_total_accepted", "gpt5_total_accepted", "gemini_total_accepted"]


def test_hand_computed_example():
    counts = pl.DataFrame({
        "company_id": ["a", "b", "c", "d"],
        "f1": [10.0, 0.0, 40.0, None],
        "f2": [20.0, 4.0, 80.0, None],
        "l1": [5.0, 0.0, 10.0, None],
    })
    result = log_debias(counts, ["f1", "f2"], ["l1"])
    logs = np.log(np.array([[10, 20, 5], [0.5, 4, np.nan], [40, 80, 10]], dtype=float))
    centre = np.nanmedian(logs, axis=1)
    bias = np.nanmedian(logs - centre[:, None], axis=0)
    debiased = logs - bias
    expected = np.exp(np.nanmedian(debiased, axis=1))
    assert result["estimate"].to_numpy()[:3] == pytest.approx(expected)
    assert result["lower80"][1] == pytest.approx(np.exp(np.quantile(debiased[1, :2], 0.1)))
    assert result["upper80"][2] == pytest.approx(np.exp(np.quantile(debiased[2], 0.9)))
    assert result["n_methods"].to_list() == [3, 2, 3, 0]  # the LLM zero is missing, the filter zero is 0.5
    assert result.row(3, named=True)["estimate"] is None  # no usable method: kept, null, not dropped


def test_reproduces_the_original_on_company_aggregates(shared_data):
    aggregates = pl.read_csv(shared_data / "annotations" / "company_aggregates.csv")
    result = log_debias(aggregates, FILTERS, LLMS, id_column="linkedin_id")
    assert result.height == aggregates.height == 403
    biases = method_biases(aggregates, FILTERS, LLMS)
    assert biases["claude_total_accepted"] == pytest.approx(-0.604203, abs=1e-6)
    assert biases["gemini_total_accepted"] == pytest.approx(0.458145, abs=1e-6)
    assert biases["filter_broad_yes"] == biases["gpt5_total_accepted"] == 0.0
    assert result["n_methods"].value_counts().sort("n_methods").rows() == [(3, 255), (4, 38), (5, 37), (6, 73)]
    assert result["estimate"].sum() == pytest.approx(17306.808, abs=0.01)
    by_id = {row["linkedin_id"]: row for row in result.iter_rows(named=True)}
    assert by_id["accenture"]["estimate"] == pytest.approx(3400.0)
    assert by_id["booz-allen-hamilton"]["estimate"] == pytest.approx(128.5611, abs=1e-3)
    assert by_id["booz-allen-hamilton"]["lower80"] == pytest.approx(45.8722, abs=1e-3)


def test_method_counts_from_samples():
    samples = pl.DataFrame({
        "company_id": ["a", "a", "a", "a", "b"],
        "llm_gemini_2_5_flash": pl.Series([1, 0, None, 1, 0], dtype=pl.Int8),
        "filter_broad_yes": pl.Series([0, 0, 0, 1, 0], dtype=pl.Int8),
    })
    companies = pl.DataFrame({"company_id": ["a", "b", "c"], "headcount": [100, 50, 10]})
    result = method_counts_from_samples(samples, companies, ["llm_gemini-2.5-flash", "filter_broad_yes"])
    rows = {row["company_id"]: row for row in result.iter_rows(named=True)}
    assert rows["a"]["llm_gemini_2_5_flash"] == pytest.approx(100 * 2 / 3)
    assert rows["a"]["filter_broad_yes"] == pytest.approx(25.0)
    assert rows["b"]["llm_gemini_2_5_flash"] == 0.0 and rows["a"]["n_sampled"] == 4
    assert rows["c"]["n_sampled"] == 0 and rows["c"]["filter_broad_yes"] is None
