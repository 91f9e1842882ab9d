"""Headcount distribution: workers per (company, role, state) where the source counts workers.

Why: the original "headcount distribution" was a template (company total x median role share) that was
never evaluated. Here the question is the same — given a company's total certified workers and which
(role, state) cells its filings show, how are the workers spread? — and every method is scored on
companies held out from fitting (H-2 ``NBR_WORKERS_CERTIFIED`` is the truth).

Methods: ``template`` (the original: total x median share of the role among training companies, split
across the role's states by filings), ``record_share`` (total x the cell's share of the company's
filings) and ``lightgbm`` (predicts each cell's share from filing structure, role and state; shares are
renormalised within the company so they add up to its total).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GroupShuffleSplit

from workforce_assets.labor.boosting import REPRODUCIBLE, progress_callback, threads_for
from workforce_assets.labor.matrix import model_records

CATEGORICAL = ("role", "state", "visa_class")
NUMERIC = (
    "log_company_workers", "company_n_records", "company_n_cells", "company_n_roles", "company_n_states",
    "cell_n_records", "cell_record_share", "role_cells_at_company", "cell_n_seniorities",
)
MIN_COMPANIES = 10


def headcount_cells(jobs: pl.DataFrame, certified_only: bool = True) -> pl.DataFrame:
    """(company, role, state) cells of records with worker counts, with filing-structure features."""
    records, _ = model_records(jobs, certified_only=certified_only)
    if "workers" not in records.columns:
        return pl.DataFrame()
    records = records.filter(pl.col("workers").is_not_null() & (pl.col("workers") >= 0))
    if "visa_class" not in records.columns:
        records = records.with_columns(visa_class=pl.lit("unknown"))
    cells = records.group_by("company_id", "role", "state").agg(
        workers=pl.col("workers").sum().cast(pl.Float64),
        cell_n_records=pl.len().cast(pl.Float64),
        cell_n_seniorities=pl.col("seniority").n_unique().cast(pl.Float64),
        visa_class=pl.col("visa_class").cast(pl.Utf8).fill_null("unknown").mode().sort().first(),  # ties: the smallest, so refits agree
    )
    return cells.with_columns(
        company_workers=pl.col("workers").sum().over("company_id"),
        company_n_records=pl.col("cell_n_records").sum().over("company_id"),
        company_n_cells=pl.len().over("company_id").cast(pl.Float64),
        company_n_roles=pl.col("role").n_unique().over("company_id").cast(pl.Float64),
        company_n_states=pl.col("state").n_unique().over("company_id").cast(pl.Float64),
        role_cells_at_company=pl.len().over("company_id", "role").cast(pl.Float64),
    ).with_columns(
        log_company_workers=pl.col("company_workers").log1p(),
        cell_record_share=pl.col("cell_n_records") / pl.col("company_n_records"),
        share=pl.when(pl.col("company_workers") > 0).then(pl.col("workers") / pl.col("company_workers")).otherwise(0.0),
    ).sort("company_id", "role", "state")


@dataclass
class HeadcountModel:
    """Share-of-company booster plus the template's median role shares (both from training companies)."""

    booster: lgb.Booster
    categories: dict[str, list[str]]
    median_role_share: dict[str, float]
    n_train_cells: int = 0
    n_train_companies: int = 0
    feature_importance: dict[str, float] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return list(CATEGORICAL) + list(NUMERIC)

    def design(self, cells: pl.DataFrame) -> np.ndarray:
        columns = [
            cells[c].cast(pl.Utf8).replace_strict(
                {v: i for i, v in enumerate(self.categories[c])}, default=-1, return_dtype=pl.Int32
            ).to_numpy().astype(np.float64)
            for c in CATEGORICAL
        ] + [cells[c].cast(pl.Float64).to_numpy() for c in NUMERIC]
        return np.column_stack(columns)

    def predict(self, cells: pl.DataFrame) -> np.ndarray:
        """Workers per cell: predicted shares renormalised within each company, times the company total."""
        raw = np.clip(self.booster.predict(self.design(cells), num_threads=threads_for(cells.height, 2)), 1e-6, None)
        frame = cells.select("company_id", "company_workers").with_columns(_raw=pl.Series(raw))
        return frame.select(
            pl.col("_raw") / pl.col("_raw").sum().over("company_id") * pl.col("company_workers")
        ).to_series().to_numpy()


def fit_headcount_model(cells: pl.DataFrame, seed: int = 0, *, n_estimators: int = 300, num_threads: int = 2) -> HeadcountModel:
    """Fit the share model on cells (from :func:`headcount_cells`) of companies with a positive total."""
    train = cells.filter(pl.col("company_workers") > 0)
    n_companies = train["company_id"].n_unique() if train.height else 0
    if n_companies < MIN_COMPANIES:
        raise ValueError(f"headcount model needs worker counts from >= {MIN_COMPANIES} companies, got {n_companies}")
    categories = {c: sorted(train[c].cast(pl.Utf8).unique().drop_nulls().to_list()) for c in CATEGORICAL}
    role_share = train.group_by("company_id", "role").agg(pl.col("share").sum()).group_by("role").agg(pl.col("share").median())
    model = HeadcountModel(
        booster=None, categories=categories,  # type: ignore[arg-type]
        median_role_share=dict(zip(role_share["role"].to_list(), role_share["share"].to_list())),
        n_train_cells=train.height, n_train_companies=n_companies,
    )
    params = {
        "objective": "regression", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20,
        "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "num_threads": threads_for(train.height, num_threads),
        "seed": seed, "deterministic": True, **REPRODUCIBLE, "verbose": -1,
    }
    # weight cells by company total so the fit cares about workers, not about many tiny companies equally
    data = lgb.Dataset(
        model.design(train), label=train["share"].to_numpy(), weight=train["log_company_workers"].to_numpy() + 1.0,
        categorical_feature=list(range(len(CATEGORICAL))), free_raw_data=True,
    )
    model.booster = lgb.train(params, data, num_boost_round=n_estimators,
                              callbacks=[progress_callback("LightGBM headcount", n_estimators)])
    gain = model.booster.feature_importance(importance_type="gain")
    model.feature_importance = {n: float(g) / (float(gain.sum()) or 1.0) for n, g in zip(model.feature_names, gain)}
    return model


def template_prediction(cells: pl.DataFrame, median_role_share: dict[str, float]) -> np.ndarray:
    """The original heuristic: company total x median role share; a role in several states split by filings."""
    overall = float(np.median(list(median_role_share.values()))) if median_role_share else 0.0
    return cells.select(
        pl.col("company_workers")
        * pl.col("role").replace_strict(median_role_share, default=overall, return_dtype=pl.Float64)
        * pl.col("cell_n_records") / pl.col("cell_n_records").sum().over("company_id", "role")
    ).to_series().to_numpy()


def evaluate_headcount(
    jobs: pl.DataFrame, seed: int = 0, *, certified_only: bool = True, test_share: float = 0.25,
    n_estimators: int = 300, num_threads: int = 2, refit: bool = True,
) -> tuple[pl.DataFrame, HeadcountModel | None]:
    """Held-out-company errors of template, record_share and lightgbm (long frame) and a model fit on all.

    Scored on held-out companies with at least 2 cells (a single cell holds the whole total by definition).
    No worker counts in the input: one row (method 'none', metric 'n_rows', value 0) and no model.
    """
    cells = headcount_cells(jobs, certified_only=certified_only)
    if cells.is_empty():
        return pl.DataFrame(
            [{"method": "none", "metric": "n_rows", "value": 0.0, "note": "no worker counts in the input"}]
        ), None
    n_companies = cells["company_id"].n_unique()
    if n_companies < 2 * MIN_COMPANIES:
        return pl.DataFrame(
            [{"method": "none", "metric": "n_companies", "value": float(n_companies),
              "note": f"worker counts from {n_companies} companies; need >= {2 * MIN_COMPANIES}"}]
        ), None
    split = GroupShuffleSplit(n_splits=1, test_size=test_share, random_state=seed)
    train_idx, test_idx = next(split.split(np.zeros(cells.height), groups=cells["company_id"].to_numpy()))
    train, test = cells[train_idx], cells[test_idx].filter(pl.col("company_n_cells") >= 2)
    model = fit_headcount_model(train, seed, n_estimators=n_estimators, num_threads=num_threads)
    y = test["workers"].to_numpy()
    predictions = {
        "template": template_prediction(test, model.median_role_share),
        "record_share": (test["company_workers"] * test["cell_record_share"]).to_numpy(),
        "lightgbm": model.predict(test) if test.height else np.array([]),
    }
    rows = []
    for method, pred in predictions.items():
        if test.height == 0:
            continue
        rows += [
            {"method": method, "metric": "mae", "value": float(mean_absolute_error(y, pred))},
            {"method": method, "metric": "wape", "value": float(np.abs(pred - y).sum() / max(y.sum(), 1e-9))},
            {"method": method, "metric": "mae_share", "value": float(np.mean(np.abs(pred - y) / test["company_workers"].to_numpy()))},
        ]
    if not rows:
        rows = [{"method": "none", "metric": "n_test_cells", "value": 0.0}]
    frame = pl.DataFrame(rows).with_columns(
        n_cells=pl.lit(cells.height), n_companies=pl.lit(n_companies), n_test_cells=pl.lit(test.height),
        n_test_companies=pl.lit(test["company_id"].n_unique()), seed=pl.lit(seed),
        note=pl.lit("held-out companies with >= 2 (role, state) cells; company total given"),
    )
    if not refit:
        return frame, model
    return frame, fit_headcount_model(cells, seed, n_estimators=n_estimators, num_threads=num_threads)
