"""Company ML-expert headcount posteriors and portfolio totals.

For each company: the number of ML experts among all its ``headcount`` employees, as draws from the
finite-population posterior predictive

    count = (experts among the n sampled employees) + Binomial(N - n, prevalence),

where the sampled employees' latent labels are drawn given their annotation patterns and the company's
prevalence, and the prevalence has a zero-inflated Beta prior fitted across companies. Parameter
uncertainty enters by bootstrapping the rated CVs (the annotator model is refitted on each resample).

Everything is computed on counts per (company, pattern): the cost per draw grows with the number of
distinct patterns per company, not with headcount or with the number of sampled employees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from workforce_assets.headcount.annotator_models import SaturatedModel
from workforce_assets.headcount.patterns import PatternData
from workforce_assets.headcount.prevalence import (
    LogSplinePrior,
    PrevalenceGrid,
    ZeroInflatedBeta,
    fit_log_spline_prior,
    fit_zero_inflated_beta,
    grid_posterior,
    pattern_grid_log_likelihood,
    posterior_cdf,
    relative_likelihood,
    sample_prevalence,
)

QUANTILES = {"q05": 0.05, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q95": 0.95}

SUMMARY_SCHEMA = {
    "company_id": pl.Utf8, "n_sampled": pl.Int64, "headcount": pl.Int64,
    "mean": pl.Float64, "sd": pl.Float64,
    "q05": pl.Float64, "q10": pl.Float64, "q50": pl.Float64, "q90": pl.Float64, "q95": pl.Float64,
    "p_at_least_one": pl.Float64, "ml_share": pl.Float64, "prior_only": pl.Boolean, "method": pl.Utf8,
}


@dataclass
class HeadcountEstimate:
    """Company summaries plus the joint draws behind them (rows of ``draws`` align with ``summary`` rows).

    Keep the draws: totals over any selection of companies must be formed from summed draws.
    ``diagnostics`` records the fitted prior per bootstrap replicate and the options used.
    """

    summary: pl.DataFrame
    draws: np.ndarray
    diagnostics: dict = field(default_factory=dict)


def _summarise(draws: np.ndarray) -> dict[str, np.ndarray]:
    quantiles = np.quantile(draws, list(QUANTILES.values()), axis=1, method="inverted_cdf")
    out = {name: quantiles[i].astype(np.float64) for i, name in enumerate(QUANTILES)}
    out["mean"] = draws.mean(axis=1)
    out["sd"] = draws.std(axis=1, ddof=1) if draws.shape[1] > 1 else np.zeros(draws.shape[0])
    out["p_at_least_one"] = (draws >= 1).mean(axis=1)
    return out


def bootstrap_rated_counts(rated_counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Stratified bootstrap of the rated items, done on pattern counts: a multinomial per true class."""
    out = np.zeros_like(rated_counts)
    for k in (0, 1):
        total = int(round(rated_counts[:, k].sum()))
        if total:
            out[:, k] = rng.multinomial(total, rated_counts[:, k] / rated_counts[:, k].sum())
    return out


def _fit(model, patterns: np.ndarray, weights: np.ndarray, labelled_weights: np.ndarray) -> np.ndarray:
    """Fit on all weights; a model with a base fitted on rated items alone (saturated) is told which those are."""
    if isinstance(model, SaturatedModel):
        return model.log_likelihood(patterns, weights, labelled_weights=labelled_weights)
    return model.log_likelihood(patterns, weights)


def semi_supervised_fit(
    data: PatternData,
    model,
    labelled_weights: np.ndarray,
    grid: PrevalenceGrid,
    n_iterations: int = 30,
    tolerance: float = 1e-3,
    unlabelled_weight: float = 1.0,
    prior: ZeroInflatedBeta | None = None,
    trace: list | None = None,
    start_unlabelled: np.ndarray | None = None,
    zero_atom: bool = False,
    prior_family: str = "beta",
    accelerate: bool = False,
    linear_below: float | None = None,
) -> tuple[np.ndarray, np.ndarray, ZeroInflatedBeta | LogSplinePrior]:
    """EM for the annotator model on rated items (labelled) plus company samples (unlabelled).

    Starts from the supervised fit, or from labelled + ``start_unlabelled`` expected class counts. E-step:
    each sampled (company, pattern) cell gets its expected number of experts under the company's grid
    posterior for prevalence (zero-inflated Beta prior refitted every step). M-step: the annotator model
    is refitted on labelled counts plus those expected counts. Prevalence differing across companies is
    what identifies the annotators' error patterns from unlabelled data (Hui and Walter); ``grid`` can be
    coarse, the E-step only needs expected shares. Stops when no pattern's expected expert count moves
    by more than ``tolerance`` of its sampled count.

    The E-step prior has no zero atom by default (``zero_atom=False``; the final posterior keeps it). With
    an atom, EM drifts along the direction the samples cannot identify: a company with a handful of experts
    is declared expert-free, its experts' patterns are counted as non-expert patterns, the (free) non-expert
    distribution absorbs them, and more companies then look expert-free. On the demo world, where many
    companies have 0.5-2% experts, the zero weight went to ~0.8 (true 0.26) and the 80% intervals of those
    companies collapsed to {0}. A continuous prior keeps every company's expected expert share positive, so
    expert-looking patterns stay with the experts (benchmarks/headcount_demo_calibration.py).
    ``prior_family='log_spline'`` uses the final posterior's prior family in the E-step instead (penalty 3.0, the
    value the final prior falls back to; a few L-BFGS steps per EM iteration, warm-started; ``linear_below`` as
    in :func:`fit_log_spline_prior`).
    ``accelerate`` runs the same map under SQUAREM (``n_iterations`` then counts EM steps, three per cycle).
    Returns (log-likelihood per pattern and class, the unlabelled expected class counts, the prior).
    """
    company_patterns = data.company_pattern_matrix()
    unlabelled = np.zeros_like(labelled_weights) if start_unlabelled is None else start_unlabelled
    log_lik = _fit(model, data.patterns, labelled_weights + unlabelled, labelled_weights)
    pattern_totals = np.bincount(data.entry_pattern, weights=data.entry_count, minlength=data.patterns.shape[0])
    totals = unlabelled_weight * pattern_totals
    sampled_patterns = np.unique(data.entry_pattern)
    column = np.searchsorted(sampled_patterns, data.entry_pattern)
    with np.errstate(divide="ignore"):
        log_pi = np.log(grid.values)
    state = {"prior": prior}

    def e_step(fitted: np.ndarray) -> np.ndarray:
        """Expected (non-expert, expert) counts per pattern of the sampled employees under ``fitted``; refits
        the E-step prior (warm-started from the previous one)."""
        pattern_grid = pattern_grid_log_likelihood(fitted, grid)
        relative = relative_likelihood(np.asarray(company_patterns @ pattern_grid))
        previous = state["prior"]
        if prior_family == "log_spline":
            state["prior"] = fit_log_spline_prior(None, grid, penalty=3.0, relative=relative, zero_atom=zero_atom,
                                                  start=previous if isinstance(previous, LogSplinePrior) else None,
                                                  max_iterations=20, tolerance=1e-6, linear_below=linear_below)
        else:
            state["prior"] = fit_zero_inflated_beta(None, grid, start=previous if isinstance(previous, ZeroInflatedBeta) else None,
                                                    max_iterations=5, relative=relative, zero_atom=zero_atom)
        posterior = grid_posterior(None, state["prior"], grid, relative=relative)
        # P(expert | pattern, prevalence) on the grid, for the patterns that occur in samples
        expert_given = np.exp(log_pi[None, :] + fitted[sampled_patterns, 1:2] - pattern_grid[sampled_patterns])
        expected = posterior @ expert_given.T  # (n_companies, n_sampled_patterns)
        share = expected[data.entry_company, column]
        weighted = unlabelled_weight * data.entry_count
        n_patterns = labelled_weights.shape[0]
        return np.stack([np.bincount(data.entry_pattern, weights=weighted * (1.0 - share), minlength=n_patterns),
                         np.bincount(data.entry_pattern, weights=weighted * share, minlength=n_patterns)], axis=1)

    def m_step(counts: np.ndarray) -> np.ndarray:
        return _fit(model, data.patterns, labelled_weights + counts, labelled_weights)

    def change(new: np.ndarray, old: np.ndarray) -> float:
        return float(np.max(np.abs(new[:, 1] - old[:, 1]) / np.maximum(totals, 1.0)))

    def record(value: float) -> None:
        if trace is not None:
            trace.append((value, state["prior"]))

    if not accelerate:
        for _ in range(n_iterations):
            previous = unlabelled
            unlabelled = e_step(log_lik)
            log_lik = m_step(unlabelled)
            moved = change(unlabelled, previous)
            record(moved)
            if moved < tolerance:
                break
        return log_lik, unlabelled, state["prior"]

    # SQUAREM (Varadhan and Roland 2008, scheme S3) on the fixed-point map counts -> e_step(m_step(counts)):
    # EM here converges linearly and slowly where the samples identify the expert patterns weakly (about
    # 1,000 iterations to a relative change of 1e-7 in a shifted-annotator plasmode world); two EM steps
    # give a secant step length, the extrapolated counts are kept inside [0, pattern total], and a third EM
    # step from them stabilises. Hand-written: no maintained Python package implements it for an arbitrary map.
    def em_map(counts: np.ndarray) -> np.ndarray:
        return e_step(m_step(counts))

    previous = unlabelled
    unlabelled = e_step(log_lik)
    evaluations = 1
    record(change(unlabelled, previous))
    step_max = 1.0
    while evaluations < n_iterations:
        first = em_map(unlabelled)
        evaluations += 1
        moved = change(first, unlabelled)
        if moved < tolerance:
            unlabelled = first
            record(moved)
            break
        second = em_map(first)
        evaluations += 1
        r = first[:, 1] - unlabelled[:, 1]
        v = second[:, 1] - first[:, 1] - r
        v_norm = float(v @ v)
        alpha = -np.sqrt(float(r @ r) / v_norm) if v_norm > 0 else -1.0
        alpha = float(np.clip(alpha, -step_max, -1.0))
        extrapolated = np.clip(unlabelled[:, 1] - 2.0 * alpha * r + alpha * alpha * v, 0.0, totals)
        candidate = np.stack([totals - extrapolated, extrapolated], axis=1)
        stabilised = em_map(candidate)
        evaluations += 1
        if not np.all(np.isfinite(stabilised)):
            stabilised, step_max = second, max(1.0, step_max / 4.0)
        elif alpha == -step_max:
            step_max *= 4.0
        moved = change(stabilised, unlabelled)
        record(moved)
        unlabelled = stabilised
        if change(stabilised, candidate) < tolerance:
            break
    log_lik = m_step(unlabelled)
    return log_lik, unlabelled, state["prior"]


def _binomial_by_count(n: np.ndarray, p: np.ndarray, rng: np.random.Generator, max_summed: int = 8) -> np.ndarray:
    """Binomial(n[i], p[i, d]) draws, exact: rows with n <= ``max_summed`` as sums of n uniform comparisons
    (numpy's binomial sampler costs ~100 ns a draw when n and p vary by element, a comparison ~5 ns; in the
    10k-company benchmark a third of the cells hold one employee and 80% at most eight), the rest with
    ``rng.binomial``. Rows sorted by ``n`` (as :func:`draw_whole_company_counts` passes them) are handled as
    contiguous slices, without gathering and scattering rows."""
    out = np.empty(p.shape, dtype=np.int64)
    if n.size > 1 and np.all(n[1:] >= n[:-1]):
        groups = [(value, slice(*np.searchsorted(n, [value, value + 1]))) for value in range(0, max_summed + 1)]
        rest = slice(int(np.searchsorted(n, max_summed + 1)), n.size)
    else:
        groups = [(value, np.flatnonzero(n == value)) for value in range(0, max_summed + 1)]
        rest = np.flatnonzero(n > max_summed)
    for value, rows in groups:
        p_rows = p[rows]
        if p_rows.shape[0] == 0:
            continue
        if value <= 0:
            out[rows] = 0
            continue
        summed = (rng.random(p_rows.shape) < p_rows).astype(np.int64)
        for _ in range(value - 1):
            summed += rng.random(p_rows.shape) < p_rows
        out[rows] = summed
    if (rest.stop - rest.start if isinstance(rest, slice) else rest.size) > 0:  # no copy just to test emptiness
        out[rest] = rng.binomial(n[rest][:, None], p[rest])
    return out


def draw_whole_company_counts(
    data: PatternData,
    log_lik: np.ndarray,
    posterior: np.ndarray,
    grid: PrevalenceGrid,
    n_draws: int,
    rng: np.random.Generator,
    entry_to_company,
    chunk_cells: int = 4_000_000,
) -> np.ndarray:
    """(n_companies, n_draws) whole-company counts: sampled employees' latent labels + unsampled binomial."""
    n_sampled = data.n_sampled
    unsampled = data.headcounts - n_sampled
    # P(expert | pattern, pi) = pi r / (1 + pi (r - 1)) with r the pattern's likelihood ratio
    log_ratio = np.clip(log_lik[:, 1] - log_lik[:, 0], -300.0, 300.0)  # finite products below
    # entries ordered by their employee count, so the latent-label sampler works on contiguous slices
    order = np.argsort(data.entry_count, kind="stable")
    entry_count, entry_company = data.entry_count[order], data.entry_company[order]
    entry_to_company = entry_to_company[:, order]
    ratio_minus_one = np.expm1(log_ratio)[data.entry_pattern[order]][:, None]
    ratio = ratio_minus_one + 1.0
    out = np.empty((data.n_companies, n_draws), dtype=np.int64)
    n_entries = max(data.entry_pattern.size, 1)
    step = max(1, min(n_draws, chunk_cells // max(n_entries, data.n_companies)))
    cdf = posterior_cdf(posterior)
    for start in range(0, n_draws, step):
        size = min(step, n_draws - start)
        prevalence = sample_prevalence(cdf, grid, size, rng)
        counts = rng.binomial(unsampled[:, None], prevalence)
        if data.entry_pattern.size:
            entry_prevalence = prevalence[entry_company]
            expert_probability = entry_prevalence * ratio
            expert_probability /= 1.0 + entry_prevalence * ratio_minus_one
            np.clip(expert_probability, 0.0, 1.0, out=expert_probability)
            counts += np.asarray(entry_to_company @ _binomial_by_count(entry_count, expert_probability, rng)).astype(np.int64)
        out[:, start:start + size] = counts
    return out


def estimate_company_headcounts(
    rated: pl.DataFrame,
    samples: pl.DataFrame,
    companies: pl.DataFrame,
    annotators: list[str],
    n_draws: int = 1000,
    seed: int = 0,
    **options,
) -> HeadcountEstimate:
    """Posterior draws of every company's ML-expert count, and their summary: a one-call front end to
    :class:`workforce_assets.headcount.model.HeadcountModel` (``options`` are its ``HeadcountOptions``).

    rated: ``is_ml_expert`` (0/1) plus one 0/1/null column per annotator; samples: ``company_id`` plus the
    same annotators (matched by canonical name, never position); companies: ``company_id``, ``headcount``.
    Companies without a sampled employee get a prior predictive and ``prior_only = True``.
    """
    from workforce_assets.headcount.model import HeadcountModel

    if n_draws < 1:
        raise ValueError("n_draws must be at least 1")
    model = HeadcountModel(**options).fit(rated, samples, companies, annotators=annotators, seed=seed)
    return model.sample(n_draws, seed)


def posterior_draws(data: PatternData, n_draws: int = 1000, seed: int = 0, **options) -> tuple[np.ndarray, dict]:
    """The draws of :func:`estimate_company_headcounts` from already-reduced :class:`PatternData`."""
    from workforce_assets.headcount.model import HeadcountModel

    estimate = HeadcountModel(**options).fit_patterns(data, seed=seed).sample(n_draws, seed)
    return estimate.draws, estimate.diagnostics


def totals(draws: np.ndarray, company_ids: list[str], groups: dict[str, str] | None = None) -> pl.DataFrame:
    """Totals over companies (all, or per group) from summed joint draws, never from summed percentiles.

    groups maps company_id -> group name; every company must have a group (none is silently dropped).
    Returns group, n_companies, mean, sd, q05, q10, q50, q90, q95.
    """
    draws = np.asarray(draws)
    if draws.ndim != 2 or draws.shape[0] != len(company_ids):
        raise ValueError(f"draws has shape {draws.shape}; expected ({len(company_ids)}, n_draws)")
    if groups is None:
        labels = np.array(["all"] * len(company_ids), dtype=object)
    else:
        missing = [c for c in company_ids if c not in groups]
        if missing:
            raise ValueError(f"companies without a group: {missing[:10]}")
        labels = np.array([groups[c] for c in company_ids], dtype=object)
    names = sorted(set(labels.tolist()))
    rows = []
    for name in names:
        summed = draws[labels == name].sum(axis=0, keepdims=True)
        stats = _summarise(summed)
        rows.append({
            "group": name, "n_companies": int((labels == name).sum()),
            "mean": float(stats["mean"][0]), "sd": float(stats["sd"][0]),
            **{q: float(stats[q][0]) for q in QUANTILES},
        })
    return pl.DataFrame(rows, schema={
        "group": pl.Utf8, "n_companies": pl.Int64, "mean": pl.Float64, "sd": pl.Float64,
        **{q: pl.Float64 for q in QUANTILES},
    })


def totals_by_part(summary: pl.DataFrame, draws: np.ndarray, company_table: pl.DataFrame | None = None) -> pl.DataFrame:
    """Totals from summed joint draws (``summary`` rows aligned with ``draws``, with ``prior_only`` and
    ``extrapolated``): the default ('all': sampled + unsampled companies that resemble sampled ones), each part
    apart (sampled / unsampled_similar / extrapolated), all including the extrapolated, and per batch and per
    country where ``summary`` has ``batch`` and ``company_table`` has ``country``."""
    ids = summary["company_id"].to_list()
    part = np.where(~summary["prior_only"].to_numpy(), "sampled",
                    np.where(summary["extrapolated"].to_numpy(), "extrapolated", "unsampled_similar"))
    included = part != "extrapolated"
    frames = [
        totals(draws[included], [c for c, keep in zip(ids, included) if keep]).with_columns(
            grouping=pl.lit("all")),
        totals(draws, ids).with_columns(grouping=pl.lit("all_including_extrapolated"), group=pl.lit("all")),
        totals(draws, ids, groups=dict(zip(ids, part.tolist()))).with_columns(grouping=pl.lit("part")),
    ]
    kept_ids = [c for c, keep in zip(ids, included) if keep]
    if "batch" in summary.columns:
        batches = dict(zip(ids, summary["batch"].fill_null("(unsampled)").to_list()))
        frames.append(totals(draws[included], kept_ids, groups={c: batches[c] for c in kept_ids})
                      .with_columns(grouping=pl.lit("batch")))
    if company_table is not None and "country" in company_table.columns:
        country = dict(zip(company_table["company_id"].to_list(), company_table["country"].fill_null("unknown").to_list()))
        frames.append(totals(draws[included], kept_ids, groups={c: country.get(c, "unknown") for c in kept_ids})
                      .with_columns(grouping=pl.lit("country")))
    return pl.concat(frames, how="diagonal_relaxed").select("grouping", *[c for c in frames[0].columns if c != "grouping"])
