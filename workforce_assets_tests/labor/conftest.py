"""Small seeded synthetic worlds shared by the labor tests (built once per session: they are the slow part)."""

from __future__ import annotations

import polars as pl
import pytest

from workforce_assets.labor.matrix import build_archetype_matrix
from workforce_assets.labor.synthetic import synthetic_job_records


@pytest.fixture(scope="session")
def synthetic_jobs() -> pl.DataFrame:
    return synthetic_job_records(n_companies=500, seed=3)


@pytest.fixture(scope="session")
def synthetic_matrix(synthetic_jobs) -> pl.DataFrame:
    return build_archetype_matrix(synthetic_jobs)


@pytest.fixture(scope="session")
def existence_model(synthetic_matrix):
    from workforce_assets.labor.existence import fit_existence_model

    return fit_existence_model(synthetic_matrix, seed=0, n_estimators=40, negatives_per_company=40, n_rounds=1)
