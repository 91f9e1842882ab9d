"""Seeded synthetic worlds with known structure, for tests and benchmarks of the labor models.

Why: claims such as "LightGBM beats popularity" or "the 80% band covers 80% of held-out employers" must be
checked where the truth is known. ``synthetic_job_records`` draws job records in the ingestion schema from
industries with their own role mixes and states, wages from role x state x seniority x employer effects,
and worker counts from employer scale x role weight. ``synthetic_archetype_matrix`` draws a large sparse
company x archetype matrix with Zipf popularity for the full-matrix benchmark.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from workforce_assets.labor.roles import ROLE_NAMES, SENIORITY_LEVELS, UNKNOWN_SENIORITY

#: the levels a synthetic job has (a simulated job always has a true seniority)
LEVELS = tuple(level for level in SENIORITY_LEVELS if level != UNKNOWN_SENIORITY)

# industry -> [(soc_code or None, title, base annual wage, worker weight)], its states, visa class
_INDUSTRIES: dict[str, dict] = {
    "farm": {
        "jobs": [("45-2092", "Farmworker", 27_000, 8.0), ("45-2093", "Livestock Worker", 29_000, 3.0),
                 ("45-2091", "Agricultural Equipment Operator", 33_000, 2.0), ("45-1011", "Farm Supervisor", 42_000, 0.6)],
        "states": ["CA", "WA", "FL", "GA", "NC", "ID"], "visa": "H-2A", "weight": 0.3,
    },
    "landscaping": {
        "jobs": [("37-3011", "Landscape Laborer", 30_000, 6.0), ("37-3013", "Tree Trimmer", 34_000, 1.5),
                 ("47-2061", "Construction Laborer", 33_000, 2.0), ("37-1012", "Landscape Crew Supervisor", 45_000, 0.5)],
        "states": ["TX", "FL", "VA", "NC", "CO", "MD"], "visa": "H-2B", "weight": 0.25,
    },
    "hospitality": {
        "jobs": [("35-2014", "Cook", 29_000, 2.0), ("35-3031", "Server", 24_000, 2.0), ("37-2012", "Housekeeper", 25_000, 3.0),
                 ("35-9021", "Dishwasher", 23_000, 1.0), ("43-4081", "Front Desk Clerk", 27_000, 0.8), ("35-3011", "Bartender", 26_000, 0.6)],
        "states": ["CO", "FL", "NY", "MA", "SC", "WY"], "visa": "H-2B", "weight": 0.2,
    },
    "construction": {
        "jobs": [("47-2061", "Construction Laborer", 34_000, 4.0), ("47-2031", "Carpenter", 41_000, 2.0),
                 ("47-2051", "Concrete Finisher", 38_000, 1.5), ("47-3012", "Carpenter Helper", 31_000, 1.5), ("47-2181", "Roofer", 37_000, 1.0)],
        "states": ["TX", "LA", "MS", "AL", "TN", "VA"], "visa": "H-2B", "weight": 0.15,
    },
    "software": {
        "jobs": [(None, "Software Developer", 92_000, 0.0), (None, "Software Development Engineer in Test", 88_000, 0.0),
                 (None, "Software Architect", 120_000, 0.0), (None, "Systems Analyst", 80_000, 0.0)],
        "states": ["CA", "WA", "NY", "TX", "NJ", "IL"], "visa": "H-1B", "weight": 0.1,
    },
}
_STATE_WAGE = {"CA": 1.2, "WA": 1.15, "NY": 1.25, "MA": 1.2, "NJ": 1.15, "IL": 1.05, "CO": 1.05, "FL": 0.95,
               "GA": 0.92, "NC": 0.93, "ID": 0.9, "TX": 0.97, "VA": 1.0, "MD": 1.05, "SC": 0.9, "WY": 0.95,
               "LA": 0.9, "MS": 0.85, "AL": 0.87, "TN": 0.9}
_SENIORITY_TITLES = [("", 1.0, 0.72), ("Senior ", 1.25, 0.1), ("Junior ", 0.85, 0.1), ("Lead ", 1.15, 0.05),
                     ("Manager, ", 1.45, 0.03)]
_STATUSES = [("certified", "CERTIFIED", 0.85), ("certified_withdrawn", "CERTIFIED - WITHDRAWN", 0.03),
             ("denied", "DENIED", 0.07), ("withdrawn", "WITHDRAWN", 0.05)]


def synthetic_job_records(n_companies: int = 600, seed: int = 0, mean_records: float = 6.0) -> pl.DataFrame:
    """Job records in the ingestion schema for ``n_companies`` employers (about ``mean_records`` each)."""
    rng = np.random.default_rng(seed)
    industries = list(_INDUSTRIES)
    weights = np.array([_INDUSTRIES[i]["weight"] for i in industries])
    company_industry = rng.choice(len(industries), size=n_companies, p=weights / weights.sum())
    rows: dict[str, list] = {k: [] for k in (
        "employer_name", "employer_key", "job_title", "soc_code", "soc_title", "worksite_state", "wage_rate",
        "wage_unit", "annual_wage", "wage_flag", "workers", "case_status", "case_status_raw", "visa_class",
        "fiscal_year")}
    for company in range(n_companies):
        spec = _INDUSTRIES[industries[company_industry[company]]]
        n_states = rng.choice([1, 2, 3], p=[0.65, 0.27, 0.08])
        states = rng.choice(spec["states"], size=n_states, replace=False, p=_state_weights(len(spec["states"])))
        role_mix = rng.dirichlet(np.full(len(spec["jobs"]), 0.8))
        n_records = 1 + rng.poisson(mean_records - 1) if rng.random() < 0.8 else 1 + rng.poisson(3 * mean_records)
        employer_effect = rng.lognormal(0.0, 0.12)
        scale = rng.lognormal(1.2, 0.8)
        for _ in range(n_records):
            soc, title, base, worker_weight = spec["jobs"][rng.choice(len(spec["jobs"]), p=role_mix)]
            prefix, factor, _p = _SENIORITY_TITLES[rng.choice(len(_SENIORITY_TITLES), p=[s[2] for s in _SENIORITY_TITLES])]
            state = str(states[rng.choice(n_states)])
            annual = base * factor * _STATE_WAGE[state] * employer_effect * rng.lognormal(0.0, 0.1)
            hourly = spec["visa"] != "H-1B"
            status, status_raw, _q = _STATUSES[rng.choice(len(_STATUSES), p=[s[2] for s in _STATUSES])]
            rows["employer_name"].append(f"Employer {company:05d} LLC")
            rows["employer_key"].append(f"employer {company:05d}")
            rows["job_title"].append(prefix + title)
            rows["soc_code"].append(soc)
            rows["soc_title"].append(title if soc else None)
            rows["worksite_state"].append(state)
            rows["wage_rate"].append(round(annual / 2080, 2) if hourly else round(annual, -2))
            rows["wage_unit"].append("hour" if hourly else "year")
            rows["annual_wage"].append(annual)
            rows["wage_flag"].append(None)
            rows["workers"].append(int(1 + rng.poisson(scale * worker_weight)) if hourly else None)
            rows["case_status"].append(status)
            rows["case_status_raw"].append(status_raw)
            rows["visa_class"].append(spec["visa"])
            rows["fiscal_year"].append(int(rng.integers(2014, 2020)))
    frame = pl.DataFrame(rows, schema_overrides={"workers": pl.Int64, "annual_wage": pl.Float64,
                                                  "wage_rate": pl.Float64, "fiscal_year": pl.Int64})
    # a few implausible wages (flagged, as ingestion does) and exact duplicates, to exercise the exclusions
    implausible = rng.random(frame.height) < 0.01
    frame = frame.with_columns(
        annual_wage=pl.when(pl.Series(implausible)).then(pl.col("annual_wage") * 100).otherwise(pl.col("annual_wage")),
        wage_flag=pl.when(pl.Series(implausible)).then(pl.lit("implausible")).otherwise(pl.col("wage_flag")),
        is_exact_duplicate=pl.lit(False),
        source_file=pl.lit("synthetic"),
    )
    duplicates = frame.sample(fraction=0.01, seed=seed).with_columns(is_exact_duplicate=pl.lit(True))
    frame = pl.concat([frame, duplicates]).with_row_index("row_number", offset=1)
    return frame.with_columns(pl.col("row_number").cast(pl.Int64))


def _state_weights(n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1)
    return weights / weights.sum()


def synthetic_archetype_matrix(
    n_companies: int = 25_000,
    n_archetypes: int = 8_000,
    density: float = 0.0003,
    zipf_exponent: float = 1.0,
    n_clusters: int = 40,
    seed: int = 0,
) -> pl.DataFrame:
    """A sparse company x archetype matrix (company_id, role, seniority, state, archetype, n_records).

    Archetype popularity follows Zipf(``zipf_exponent``) globally; each company belongs to one of
    ``n_clusters`` clusters that prefer a random subset of archetypes, so co-occurrence is structured.
    The number of observed cells is about ``density * n_companies * n_archetypes`` (0.03% = the original's);
    every archetype is observed at least once, as in any matrix built from filings.
    """
    rng = np.random.default_rng(seed)
    roles = np.array(ROLE_NAMES)
    states = np.array([f"S{i:02d}" for i in range(60)])
    grid = np.array(np.meshgrid(np.arange(len(roles)), np.arange(len(LEVELS)), np.arange(len(states)),
                                indexing="ij")).reshape(3, -1).T
    if n_archetypes > len(grid):
        raise ValueError(f"at most {len(grid)} archetypes in the synthetic grid")
    chosen = grid[rng.choice(len(grid), size=n_archetypes, replace=False)]
    names = np.array([f"{roles[r]}|{LEVELS[s]}|{states[t]}" for r, s, t in chosen])
    popularity = 1.0 / np.arange(1, n_archetypes + 1) ** zipf_exponent
    popularity = popularity[rng.permutation(n_archetypes)]
    cluster_boost = rng.random((n_clusters, n_archetypes)) < 0.05
    n_cells = max(int(round(density * n_companies * n_archetypes)) - n_archetypes, n_companies)
    sizes = 1 + rng.geometric(1.0 / max(n_cells / n_companies, 1.0 + 1e-9), size=n_companies) - 1
    sizes = np.maximum(1, np.round(sizes * n_cells / sizes.sum())).astype(np.int64)
    cluster = rng.integers(0, n_clusters, size=n_companies)
    company_rows, archetype_cols = [], []
    for c_id in range(n_clusters):
        members = np.flatnonzero(cluster == c_id)
        if len(members) == 0:
            continue
        weights = popularity * np.where(cluster_boost[c_id], 20.0, 1.0)
        weights = weights / weights.sum()
        total = int(sizes[members].sum())
        company_rows.append(np.repeat(members, sizes[members]))
        archetype_cols.append(rng.choice(n_archetypes, size=total, p=weights))
    # every archetype is observed at least once (a matrix built from filings has no empty columns)
    company_rows.append(rng.integers(0, n_companies, size=n_archetypes))
    archetype_cols.append(np.arange(n_archetypes))
    rows = np.concatenate(company_rows)
    cols = np.concatenate(archetype_cols)
    keys = np.unique(rows.astype(np.int64) * n_archetypes + cols)
    rows, cols = keys // n_archetypes, keys % n_archetypes
    parts = chosen[cols]
    return pl.DataFrame(
        {
            "company_id": np.char.add("c", rows.astype(str)),
            "role": roles[parts[:, 0]],
            "seniority": np.array(LEVELS)[parts[:, 1]],
            "state": states[parts[:, 2]],
            "archetype": names[cols],
            "n_records": np.ones(len(rows), dtype=np.int64),
        }
    )
