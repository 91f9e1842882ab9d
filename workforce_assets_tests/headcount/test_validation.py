"""Held-out (5-fold) scores on the real rated CVs and model choice by cross-validated log-loss."""

from __future__ import annotations

import polars as pl
import pytest

from workforce_assets.headcount.validation import choose_model, cross_validated_scores

ANNOTATORS = ["llm_gemini-2.5-flash", "llm_sonnet-4", "llm_gpt-5-mini", "filter_broad_yes", "filter_strict_no",
              "filter_broad_yes_strict_no"]


@pytest.fixture(scope="module")
def rated(shared_data):
    return pl.read_csv(shared_data / "annotations" / "validation_annotations.csv").drop("cv_text")


def test_five_fold_table_on_real_rated_cvs(rated):
    table = cross_validated_scores(rated, ANNOTATORS, n_folds=5, seed=0)
    rows = {row["model"]: row for row in table.iter_rows(named=True)}
    assert set(rows) == {"majority vote", "independent (Dawid-Skene)", "probit", "loglinear"}
    assert rows["majority vote"]["accuracy"] == pytest.approx(0.896, abs=0.001)  # the published number
    # the correlated models give better calibrated probabilities than the vote share or independence
    for name in ("probit", "loglinear"):
        assert rows[name]["log_loss"] < rows["independent (Dawid-Skene)"]["log_loss"] - 0.05
        assert rows[name]["log_loss"] < rows["majority vote"]["log_loss"] - 0.1
        assert rows[name]["brier"] < rows["majority vote"]["brier"]
    assert all(row["n_items"] == 585 for row in rows.values())


def test_choose_model_picks_the_lowest_cross_validated_log_loss(rated):
    assert choose_model(rated, ANNOTATORS, candidates=("independent", "loglinear")) == "loglinear"
