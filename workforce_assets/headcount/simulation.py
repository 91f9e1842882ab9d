"""Simulated worlds with known truth, for tests and the calibration harness.

Two ways to make annotation patterns: a parametric one (independent annotators with given sensitivity /
specificity) and a plasmode one (resampling real rated-CV rows of the matching true class, so the error
structure - correlations included - is the real one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass
class SimulatedWorld:
    """Estimator inputs plus the truth: ``truth`` has company_id, headcount, n_sampled, true_count, prevalence.

    ``simulation_rows``: for a plasmode world, the rated rows employees were resampled from (never given to
    the estimators; diagnostics use them as the oracle pattern distributions). ``sample_truth``: for a
    plasmode world, each sampled employee's true class, in the row order of ``samples``.
    """

    rated: pl.DataFrame
    samples: pl.DataFrame
    companies: pl.DataFrame
    truth: pl.DataFrame
    annotators: list[str]
    simulation_rows: pl.DataFrame | None = None
    sample_truth: np.ndarray | None = None


def draw_companies(
    rng: np.random.Generator,
    n_companies: int,
    zero_share: float = 0.3,
    prevalence_beta: tuple[float, float] = (0.6, 4.0),
    headcount_range: tuple[int, int] = (20, 200_000),
    sample_fraction_range: tuple[float, float] = (0.005, 0.9),
    max_sampled: int = 2_000,
    min_sampled: int = 1,
    sample_size_range: tuple[int, int] | None = None,
    sample_sizes: np.ndarray | None = None,
    prevalence_distribution: str = "beta",
    log_uniform_range: tuple[float, float] = (0.002, 0.40),
    two_points: tuple[float, float] = (0.01, 0.20),
) -> pl.DataFrame:
    """Companies with log-uniform headcounts, a sample size, and a prevalence (exactly 0 for ``zero_share``).

    Sample sizes are a log-uniform fraction of headcount (clipped to [min_sampled, max_sampled]), or, with
    ``sample_size_range``, log-uniform sizes in that range, or exactly ``sample_sizes`` (headcounts are then
    raised to at least the sample size); never more than the headcount.

    Non-zero prevalences: ``prevalence_distribution`` 'beta' (``prevalence_beta``), 'log_uniform' (between the
    bounds of ``log_uniform_range``) or 'two_point' (each of ``two_points`` with probability 1/2): worlds that
    break the Beta prior's shape on purpose.
    """
    headcount = np.exp(rng.uniform(np.log(headcount_range[0]), np.log(headcount_range[1]), n_companies)).astype(np.int64)
    if sample_sizes is not None:
        n_sampled = np.asarray(sample_sizes, dtype=np.int64)
        headcount = np.maximum(headcount, n_sampled)
    elif sample_size_range is not None:
        n_sampled = np.exp(rng.uniform(np.log(sample_size_range[0]), np.log(sample_size_range[1]), n_companies))
        n_sampled = np.round(n_sampled).astype(np.int64)
    else:
        fraction = np.exp(rng.uniform(np.log(sample_fraction_range[0]), np.log(sample_fraction_range[1]), n_companies))
        n_sampled = np.clip(np.round(fraction * headcount), min_sampled, max_sampled).astype(np.int64)
    n_sampled = np.minimum(n_sampled, headcount)
    if prevalence_distribution == "beta":
        nonzero = rng.beta(*prevalence_beta, n_companies)
    elif prevalence_distribution == "log_uniform":
        nonzero = np.exp(rng.uniform(*np.log(log_uniform_range), n_companies))
    elif prevalence_distribution == "two_point":
        nonzero = np.where(rng.random(n_companies) < 0.5, *two_points)
    else:
        raise ValueError(f"unknown prevalence_distribution {prevalence_distribution!r}")
    prevalence = np.where(rng.random(n_companies) < zero_share, 0.0, nonzero)
    sampled_experts = rng.binomial(n_sampled, prevalence)
    unsampled_experts = rng.binomial(headcount - n_sampled, prevalence)
    return pl.DataFrame({
        "company_id": [f"c{i:05d}" for i in range(n_companies)],
        "headcount": headcount, "n_sampled": n_sampled, "prevalence": prevalence,
        "sampled_experts": sampled_experts, "true_count": sampled_experts + unsampled_experts,
    })


def int8_labels(name: str, values: np.ndarray) -> pl.Series:
    """0/1 with -1 for missing -> Int8 series with nulls."""
    return pl.Series(name, values.astype(np.int8)).set(pl.Series(values < 0), None)


def _sample_frame(companies: pl.DataFrame, labels: np.ndarray, annotators: list[str]) -> pl.DataFrame:
    company_of_row = np.repeat(companies.get_column("company_id").to_numpy(), companies.get_column("n_sampled").to_numpy())
    columns = {"item_id": [f"p{i:07d}" for i in range(labels.shape[0])], "company_id": company_of_row}
    for j, name in enumerate(annotators):
        columns[name] = int8_labels(name, labels[:, j])
    return pl.DataFrame(columns)


def _true_statuses(companies: pl.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Per sampled employee, the true status: each company's sampled experts, shuffled within the company."""
    n_sampled = companies.get_column("n_sampled").to_numpy()
    experts = companies.get_column("sampled_experts").to_numpy()
    starts = np.r_[0, np.cumsum(n_sampled)[:-1]]
    position = np.arange(n_sampled.sum()) - np.repeat(starts, n_sampled)
    return (position < np.repeat(experts, n_sampled)).astype(np.int8)


def independent_world(
    rng: np.random.Generator,
    sensitivity: np.ndarray,
    specificity: np.ndarray,
    n_rated: int = 600,
    rated_prevalence: float = 0.3,
    missing_rate: float = 0.0,
    **company_options,
) -> SimulatedWorld:
    """Annotators independent given the class, with the given sensitivities / specificities."""
    sensitivity, specificity = np.asarray(sensitivity, float), np.asarray(specificity, float)
    annotators = [f"annotator_{j}" for j in range(sensitivity.size)]
    companies = draw_companies(rng, **company_options)

    def annotate(status: np.ndarray) -> np.ndarray:
        p_yes = np.where(status[:, None] == 1, sensitivity[None, :], 1.0 - specificity[None, :])
        labels = (rng.random(p_yes.shape) < p_yes).astype(np.int8)
        labels[rng.random(labels.shape) < missing_rate] = -1
        return labels

    truth_rated = (rng.random(n_rated) < rated_prevalence).astype(np.int8)
    rated_labels = annotate(truth_rated)
    rated = pl.DataFrame({"item_id": [f"r{i:05d}" for i in range(n_rated)], "is_ml_expert": pl.Series(truth_rated, dtype=pl.Int8)})
    rated = rated.with_columns([int8_labels(a, rated_labels[:, j]) for j, a in enumerate(annotators)])
    samples = _sample_frame(companies, annotate(_true_statuses(companies, rng)), annotators)
    return SimulatedWorld(
        rated=rated, samples=samples, companies=companies.select("company_id", "headcount"),
        truth=companies.select("company_id", "headcount", "n_sampled", "true_count", "prevalence"),
        annotators=annotators,
    )


def plasmode_world(
    rng: np.random.Generator,
    source: pl.DataFrame,
    annotators: list[str],
    rated_fraction: float = 0.5,
    profile_shift: dict[str, float] | None = None,
    **company_options,
) -> SimulatedWorld:
    """Plasmode: real rated rows split in two; one part is given as rated items, the other makes employees.

    ``profile_shift`` {annotator: q} breaks transport on purpose: on profiles (never on rated items) each yes
    of that annotator becomes a no with probability q, so its sensitivity and false-positive rate on profiles
    are (1 - q) times those on the rated items - the keyword filters' behaviour on the real lab profiles.

    Employees' annotation patterns are real rows of the matching true class drawn (with replacement) from
    the held-out part, so the estimator never sees the rows used to simulate. ``source`` holds
    ``is_ml_expert`` and the annotator columns.
    """
    truth_all = source.get_column("is_ml_expert").to_numpy().astype(np.int8)
    given = np.zeros(source.height, dtype=bool)
    for k in (0, 1):
        members = np.flatnonzero(truth_all == k)
        chosen = rng.choice(members, size=int(round(rated_fraction * members.size)), replace=False)
        given[chosen] = True
    rated = source.filter(pl.Series(given)).select("is_ml_expert", *annotators)
    held_out = source.filter(pl.Series(~given))
    held_labels = held_out.select(annotators).to_numpy()
    held_truth = held_out.get_column("is_ml_expert").to_numpy()
    companies = draw_companies(rng, **company_options)
    status = _true_statuses(companies, rng)
    rows = np.empty(status.size, dtype=np.int64)
    for k in (0, 1):
        pool = np.flatnonzero(held_truth == k)
        where = np.flatnonzero(status == k)
        rows[where] = rng.choice(pool, size=where.size, replace=True)
    labels = held_labels[rows]
    labels = np.where(np.isnan(labels.astype(float)), -1, labels).astype(np.int8)
    for name, q in (profile_shift or {}).items():
        j = annotators.index(name)
        flip = (labels[:, j] == 1) & (rng.random(labels.shape[0]) < q)
        labels[flip, j] = 0
    samples = _sample_frame(companies, labels, annotators)
    return SimulatedWorld(
        rated=rated, samples=samples, companies=companies.select("company_id", "headcount"),
        truth=companies.select("company_id", "headcount", "n_sampled", "true_count", "prevalence"),
        annotators=annotators, simulation_rows=held_out.select("is_ml_expert", *annotators),
        sample_truth=status.astype(np.int8),
    )
