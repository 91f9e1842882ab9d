import numpy as np
import polars as pl
import pytest

from workforce_assets.labor.salary import _out_of_fold_encodings, evaluate_salary, salary_records
from workforce_assets.labor.synthetic import synthetic_job_records

FAST = {"n_estimators": 80, "num_threads": 2}


@pytest.fixture(scope="module")
def salary_eval():
    jobs = synthetic_job_records(n_companies=900, seed=5)
    return evaluate_salary(jobs, seed=0, n_folds=3, refit=False, **FAST)


def test_interval_covers_about_80_percent_of_held_out_employers(salary_eval):
    frame, model = salary_eval
    value = {(m, k): v for m, k, v in frame.select("method", "metric", "value").iter_rows()}
    # conformal band on unseen employers; tolerance covers employer-cluster sampling noise (see docs)
    assert 0.72 <= value[("lightgbm", "coverage80")] <= 0.88
    assert value[("lightgbm", "mae")] < value[("role_state_median", "mae")]
    assert value[("lightgbm", "r2")] > value[("role_state_median", "r2")]
    assert frame["n_test_employers"][0] >= 150
    assert model is not None and "*" in model.conformal_correction


def test_model_predicts_ordered_quantiles(salary_eval, synthetic_jobs):
    _, model = salary_eval
    pred = model.predict(salary_records(synthetic_jobs).head(200))
    assert (pred["q10"] <= pred["q50"]).all() and (pred["q50"] <= pred["q90"]).all()


def test_target_encoding_never_sees_the_rows_own_employer(synthetic_jobs):
    records = salary_records(synthetic_jobs)
    target = records["company_id"][0]
    prior = float(records["log_wage"].mean())
    base = _out_of_fold_encodings(records, prior, seed=0)
    # change every wage of one employer: its own rows' encodings must not move (other rows may)
    changed = records.with_columns(
        log_wage=pl.when(pl.col("company_id") == target).then(pl.col("log_wage") + 5.0).otherwise(pl.col("log_wage"))
    )
    moved = _out_of_fold_encodings(changed, prior, seed=0)
    te_cols = [c for c in base.columns if c.startswith("te_")]
    own = (base["company_id"] == target).to_numpy()
    np.testing.assert_allclose(base.filter(own).select(te_cols).to_numpy(), moved.filter(own).select(te_cols).to_numpy())
    assert not np.allclose(base.filter(~own).select(te_cols).to_numpy(), moved.filter(~own).select(te_cols).to_numpy())


def test_too_few_employers_gives_a_skip_row(synthetic_jobs):
    frame, model = evaluate_salary(synthetic_jobs.head(20), seed=0, **FAST)
    assert frame["method"].to_list() == ["none"] and model is None and "need" in frame["note"][0]
