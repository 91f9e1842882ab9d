"""Does each annotator behave on the company profiles as it did on the rated CVs? (annotator transport)

The headcount model learns every annotator's class-conditional errors on the rated CVs and applies them to
the profiles. When an annotator behaves differently on profiles (a keyword filter tuned on CV summaries that
fires on almost nothing in short profile texts), the estimates are wrong and the model cannot see it. Two
checks per annotator, both against the rated-CV fit only (never against a fit that has seen the profiles,
which would absorb the shift):

1. **Range.** Under the model an annotator's positive rate in any population is a mixture
   ``pi * sensitivity + (1 - pi) * (1 - specificity)``, so it must lie between its false-positive rate and its
   sensitivity. The pooled rate on profiles is compared with that range, with the rated-CV sampling error
   (binomial) and the profiles' company-clustered sampling error (ratio-estimator variance) on both sides;
   the same per company (how many companies fall outside, after a Holm correction).
2. **Agreement with the others (leave-one-annotator-out).** With annotator j hidden, the other retained
   annotators and the rated-CV model give every sampled employee a probability that j says yes (through each
   company's prevalence posterior); the observed yes count is compared with the predicted one, with the
   parameter uncertainty of the rated-CV fit (a bootstrap of the rated CVs) and the sampling variance. This
   sees shifts that stay inside the range. Annotators are removed greedily (the worst first) while one is
   significant, so a group of shifted annotators does not make the sound ones look shifted.

Significance: each p-value is Bonferroni-corrected for the number of annotators tested (both checks and
both sides counted); an annotator fails at corrected p < ``alpha``.

A third, model-level check (:func:`company_predictive_check`) compares each company's pattern counts with
the fitted model's posterior predictive (a G^2 discrepancy with a parametric-bootstrap p-value, Holm-corrected
for the number of companies).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse, special, stats

from workforce_assets.headcount.annotator_models import _full_states, make_model
from workforce_assets.headcount.patterns import MISSING, PatternData
from workforce_assets.headcount.posterior import bootstrap_rated_counts
from workforce_assets.headcount.prevalence import (
    PrevalenceGrid,
    fit_zero_inflated_beta,
    grid_posterior,
    pattern_grid_log_likelihood,
    posterior_cdf,
    sample_prevalence,
)

TRANSPORT_SCHEMA = {
    "annotator": pl.Utf8, "excluded": pl.Boolean, "reason": pl.Utf8,
    "n_profiles_labelled": pl.Int64, "profile_positive_rate": pl.Float64,
    "profile_positive_rate_se": pl.Float64,
    "rated_false_positive_rate": pl.Float64, "rated_sensitivity": pl.Float64,
    "range_p_value": pl.Float64, "n_companies_tested": pl.Int64, "n_companies_outside_range": pl.Int64,
    "predicted_positive_rate": pl.Float64, "predicted_positive_rate_se": pl.Float64,
    "agreement_z": pl.Float64, "agreement_p_value": pl.Float64,
}


@dataclass(frozen=True)
class TransportOptions:
    """alpha: family-wise level per check family; n_resamples: rated-CV bootstrap fits for the parameter
    uncertainty of the agreement check; model: the annotator model fitted on the rated CVs for it;
    agreement_margin: the agreement check excludes an annotator only when its profile rate and the rate the
    others predict are also more than this many times apart (a significant but smaller difference is kept
    with a warning). Why a margin: with hundreds of thousands of profiles any difference is significant, and
    leaving out a sound annotator costs more than it saves. In the plasmode two random halves of the rated
    CVs differ for sonnet-4 by 1.7x (Beta world) and 2.4x (log-uniform world) in replication 9, both
    significant; leaving sonnet out took that replication's 80% coverage from 0.88 to 0.57 (log-uniform:
    0.865 to 0.49), while the semi-supervised fit that keeps it absorbs the difference. The real failures are far larger:
    the keyword filters on the lab profiles are 15-60x below what the others predict (docs/validation.md)."""

    alpha: float = 0.01
    n_resamples: int = 40
    agreement_margin: float = 3.0
    max_agreement_companies: int = 2000
    model: str = "loglinear"
    seed: int = 0


def _rates_from_rated(data: PatternData, j: int) -> tuple[float, float, int, int]:
    """(false-positive rate, sensitivity, n non-experts, n experts) of annotator j on the rated items."""
    column = data.patterns[:, j]
    counts = data.rated_counts
    negatives = counts[column != MISSING, 0].sum()
    positives = counts[column != MISSING, 1].sum()
    fpr = counts[column == 1, 0].sum() / max(negatives, 1.0)
    sens = counts[column == 1, 1].sum() / max(positives, 1.0)
    return float(fpr), float(sens), int(negatives), int(positives)


def _profile_yes(data: PatternData, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Per company: employees labelled by annotator j, and how many of them it said yes to."""
    column = data.patterns[data.entry_pattern, j]
    labelled = np.bincount(data.entry_company, weights=data.entry_count * (column != MISSING), minlength=data.n_companies)
    yes = np.bincount(data.entry_company, weights=data.entry_count * (column == 1), minlength=data.n_companies)
    return labelled, yes


def _pooled_rate(labelled: np.ndarray, yes: np.ndarray) -> tuple[float, float]:
    """Pooled positive rate and its company-clustered standard error (ratio-estimator linearisation)."""
    total = labelled.sum()
    if total == 0:
        return float("nan"), float("nan")
    rate = yes.sum() / total
    used = labelled > 0
    m = int(used.sum())
    residual = yes[used] - rate * labelled[used]
    clustered = m / max(m - 1, 1) * np.sum(residual ** 2) / total ** 2 if m > 1 else 0.0
    binomial = rate * (1 - rate) / total  # a floor: one company, or companies that agree exactly
    return float(rate), float(np.sqrt(max(clustered, binomial, 0.25 / total ** 2)))


def _binomial_se(rate, n):
    """Standard error of a proportion, with a Jeffreys-style floor for 0 and 1 (scalars or arrays)."""
    adjusted = (np.asarray(rate) * n + 0.5) / (np.asarray(n) + 1.0)
    se = np.sqrt(adjusted * (1 - adjusted) / np.maximum(n, 1))
    return float(se) if np.ndim(se) == 0 else se


def range_p_value(rate, rate_se, fpr, fpr_se, sens, sens_se):
    """Two-sided p-value that the true rate lies inside [min(fpr, sens), max(fpr, sens)] (normal approximation).

    Vectorised over ``rate`` / ``rate_se`` (arrays give an array, scalars a float)."""
    (low, low_se), (high, high_se) = sorted([(fpr, fpr_se), (sens, sens_se)])
    below = special.ndtr((np.asarray(rate) - low) / np.hypot(rate_se, low_se))  # small when under the range
    above = special.ndtr((high - np.asarray(rate)) / np.hypot(rate_se, high_se))
    p = np.minimum(1.0, 2.0 * np.minimum(below, above))
    return float(p) if np.ndim(p) == 0 else p


def holm_adjust(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (monotone, capped at 1); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if valid.size == 0:
        return out
    order = valid[np.argsort(p[valid])]
    m = order.size
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out


def _companies_outside_range(labelled, yes, fpr, fpr_se, sens, sens_se, alpha) -> tuple[int, int]:
    tested = np.flatnonzero(labelled > 0)
    if tested.size == 0:
        return 0, 0
    n = labelled[tested]
    rate = yes[tested] / n
    p = range_p_value(rate, _binomial_se(rate, n), fpr, fpr_se, sens, sens_se)
    return int(tested.size), int((holm_adjust(p) < alpha).sum())


def _company_subset(data: PatternData, max_companies: int, rng: np.random.Generator) -> PatternData:
    """At most ``max_companies`` sampled companies (a random subset) for the agreement check: its refits cost
    grows with companies (``data`` when smaller). The power this gives up above 2,000 companies is not measured."""
    sampled = np.flatnonzero(data.n_sampled > 0)
    if sampled.size <= max_companies:
        return data
    chosen = np.sort(rng.choice(sampled, max_companies, replace=False))
    new_index = np.full(data.n_companies, -1)
    new_index[chosen] = np.arange(chosen.size)
    keep = new_index[data.entry_company] >= 0
    return PatternData(
        annotators=data.annotators, patterns=data.patterns, rated_counts=data.rated_counts,
        company_ids=[data.company_ids[i] for i in chosen], headcounts=data.headcounts[chosen],
        entry_company=new_index[data.entry_company[keep]], entry_pattern=data.entry_pattern[keep],
        entry_count=data.entry_count[keep],
    )


def _ratio(observed: float, predicted: float) -> float:
    """How many times apart an observed and a predicted rate are (>= 1; NaN counts as 1)."""
    if np.isnan(observed) or np.isnan(predicted):
        return 1.0
    a, b = max(observed, 1e-6), max(predicted, 1e-6)
    return float(max(a / b, b / a))


def _marginalise(patterns: np.ndarray, hidden: list[int]) -> np.ndarray:
    out = patterns.copy()
    if hidden:
        out[:, hidden] = MISSING
    return out


def full_vector_probabilities(model_name: str, patterns: np.ndarray, class_weights: np.ndarray,
                              model=None) -> np.ndarray:
    """(2^m, 2) P(full label vector | class) of the model fitted to weighted patterns (m <= 16 annotators).

    Any pattern's probability (missing labels marginalised) is then a sum over the vectors consistent with
    it: one fit serves every annotator's leave-one-out question.
    """
    states = _full_states(patterns.shape[1])
    model = model if model is not None else make_model(model_name)  # a reused model starts from its last fit
    stacked = np.vstack([patterns, states])
    weights = np.vstack([class_weights, np.zeros((states.shape[0], 2))])
    log_lik = model.log_likelihood(stacked, weights)[patterns.shape[0]:]
    probability = np.exp(log_lik - special.logsumexp(log_lik, axis=0, keepdims=True))
    return probability


def pattern_log_likelihood_from_vectors(patterns: np.ndarray, vector_probability: np.ndarray) -> np.ndarray:
    """(n, 2) log P(pattern | class) from full-vector probabilities (missing labels marginalised)."""
    states = _full_states(patterns.shape[1]).astype(float)
    yes = (patterns == 1).astype(float)
    no = (patterns == 0).astype(float)
    consistent = ((yes @ (1.0 - states).T + no @ states.T) == 0).astype(float)
    with np.errstate(divide="ignore"):
        return np.log(consistent @ vector_probability)


def _predicted_yes(data: PatternData, j: int, hidden: list[int], vector_probability: np.ndarray,
                   prior, grid: PrevalenceGrid, counts: np.ndarray, per_entry: bool):
    """P(annotator j says yes | the others' labels, the company), summed over the sampled employees.

    ``vector_probability`` is the rated-CV model; the ``hidden`` annotators (j among them) are marginalised out
    of the company-level evidence, and j's own label enters only through P(j = yes | others, class). The
    companies' prevalence prior is fitted to that evidence when ``prior`` is None. ``counts`` are the entry
    counts that take part (those where j labelled). Returns (expected yes count, sampling variance or None,
    prior); the variance needs the per-entry probabilities (``per_entry``), the expected count only the
    (pattern x grid) sums of the company posteriors, which keeps the bootstrap refits cheap at many companies.
    """
    conditioning = _marginalise(data.patterns, hidden)
    with_yes = conditioning.copy()
    with_yes[:, j] = 1
    log_cond = pattern_log_likelihood_from_vectors(conditioning, vector_probability)
    log_yes = pattern_log_likelihood_from_vectors(with_yes, vector_probability)
    company_patterns = sparse.csr_matrix((counts, (data.entry_company, data.entry_pattern)),
                                         shape=(data.n_companies, data.patterns.shape[0]))
    company_log_lik = np.asarray(data.company_pattern_matrix() @ pattern_grid_log_likelihood(log_cond, grid))
    if prior is None:
        prior = fit_zero_inflated_beta(company_log_lik, grid, max_iterations=30)
    posterior = grid_posterior(company_log_lik, prior, grid)
    with np.errstate(divide="ignore"):
        log_pi = np.log(grid.values)[None, :]
        log_not = np.log1p(-grid.values)[None, :]
    a = log_pi + log_cond[:, 1:2]
    b = log_not + log_cond[:, 0:1]
    p_expert = np.exp(a - np.logaddexp(a, b))  # (patterns, grid)
    with np.errstate(invalid="ignore"):
        yes_given = np.nan_to_num(np.exp(np.clip(log_yes - log_cond, -700, 0)))
    per_grid = p_expert * yes_given[:, 1:2] + (1 - p_expert) * yes_given[:, 0:1]  # (patterns, grid)
    if not per_entry:
        weighted_posterior = np.asarray(company_patterns.T @ posterior)  # (patterns, grid)
        return float(np.sum(per_grid * weighted_posterior)), None, prior
    probability = np.einsum("eg,eg->e", per_grid[data.entry_pattern], posterior[data.entry_company])
    return float(np.sum(counts * probability)), float(np.sum(counts * probability * (1 - probability))), prior


def _agreement(data: PatternData, j: int, retained: list[int], fits: list[np.ndarray],
               grid: PrevalenceGrid) -> tuple[float, float, float, float]:
    """(predicted rate, its se, z, two-sided p) of annotator j's yes count given the retained others.

    ``fits[0]`` is the rated-CV model, ``fits[1:]`` its refits on bootstrap resamples of the rated CVs (their
    spread is the parameter uncertainty; each refit gets its own company posteriors under the first fit's prior).
    """
    hidden = [k for k in range(data.patterns.shape[1]) if k not in retained or k == j]
    column = data.patterns[data.entry_pattern, j]
    use = column != MISSING
    if not use.any() or len(hidden) == data.patterns.shape[1]:
        return float("nan"), float("nan"), float("nan"), float("nan")
    counts = (data.entry_count * use).astype(np.float64)
    observed = float(np.sum(counts * (column == 1)))
    total = float(counts.sum())
    expected, sampling_var, prior = _predicted_yes(data, j, hidden, fits[0], None, grid, counts, per_entry=True)
    resampled = [_predicted_yes(data, j, hidden, fit, prior, grid, counts, per_entry=False)[0] for fit in fits[1:]]
    parameter_var = float(np.var(resampled, ddof=1)) if len(resampled) > 1 else 0.0
    se = np.sqrt(sampling_var + parameter_var)
    # the test is on the log of observed / predicted (0.5 added to both counts): a predicted rate is bounded
    # below by 0 and its bootstrap spread is right-skewed, so a symmetric test on counts overstated how low
    # the prediction could be and missed a filter 4-5x below it (z = -3.3 in the plasmode); on the log scale
    # the same case gives |z| > 5, while the exclusion margin still guards sound annotators
    shift = 0.5
    log_sampling_var = sampling_var / (expected + shift) ** 2
    log_parameter_var = float(np.var(np.log(np.asarray(resampled) + shift), ddof=1)) if len(resampled) > 1 else 0.0
    z = (np.log(observed + shift) - np.log(expected + shift)) / max(np.sqrt(log_sampling_var + log_parameter_var), 1e-12)
    # the parameter variance is estimated from len(fits) - 1 refits: a Student t reference with
    # Satterthwaite's degrees of freedom keeps that estimate's own noise from flagging sound annotators
    df = (log_sampling_var + log_parameter_var) ** 2 / max(log_parameter_var ** 2 / max(len(resampled) - 1, 1), 1e-300)
    p = float(2 * stats.t.sf(abs(z), df=min(df, 1e6)))
    return expected / total, se / total, float(z), p


def annotator_transport(data: PatternData, options: TransportOptions | None = None) -> pl.DataFrame:
    """One row per annotator of ``data`` (schema ``TRANSPORT_SCHEMA``); ``excluded`` marks those that failed.

    ``reason`` says why in words a user can act on (rates, range, predicted rate, p-values).
    """
    options = options or TransportOptions()
    rng = np.random.default_rng(options.seed)
    grid = PrevalenceGrid.default(linear_step=0.02, geometric_cells=15)
    m = data.patterns.shape[1]
    tests = 2 * m  # range and agreement, each annotator: Bonferroni over all of them
    rows = []
    range_failed = []
    for j, name in enumerate(data.annotators):
        fpr, sens, n_neg, n_pos = _rates_from_rated(data, j)
        labelled, yes = _profile_yes(data, j)
        rate, rate_se = _pooled_rate(labelled, yes)
        fpr_se, sens_se = _binomial_se(fpr, n_neg), _binomial_se(sens, n_pos)
        p_range = range_p_value(rate, rate_se, fpr, fpr_se, sens, sens_se) if labelled.sum() else float("nan")
        n_tested, n_outside = _companies_outside_range(labelled, yes, fpr, fpr_se, sens, sens_se, options.alpha)
        failed = bool(min(1.0, p_range * tests) < options.alpha) if not np.isnan(p_range) else False
        if failed:
            range_failed.append(j)
        rows.append({
            "annotator": name, "n_profiles_labelled": int(labelled.sum()), "profile_positive_rate": rate,
            "profile_positive_rate_se": rate_se, "rated_false_positive_rate": fpr, "rated_sensitivity": sens,
            "range_p_value": p_range, "n_companies_tested": n_tested, "n_companies_outside_range": n_outside,
        })
    retained = [j for j in range(m) if j not in range_failed and rows[j]["n_profiles_labelled"] > 0]
    data = _company_subset(data, options.max_agreement_companies, np.random.default_rng(options.seed + 1))
    fits = []
    if m <= 16:  # the check enumerates the 2^m label vectors
        model = make_model(options.model)  # one instance: each refit starts where the last one ended (convex fit)
        fits.append(full_vector_probabilities(options.model, data.patterns, data.rated_counts, model))
        for _ in range(options.n_resamples):
            resampled = bootstrap_rated_counts(data.rated_counts, rng)
            fits.append(full_vector_probabilities(options.model, data.patterns, resampled, model))
    else:
        retained = []
    agreement_failed: list[int] = []
    agreement: dict[int, tuple] = {}
    # greedy backward elimination: drop the worst significant annotator, re-test the rest without it; only
    # while three or more remain (of two that disagree, neither can be singled out: both are reported)
    while len(retained) >= 2:
        results = {j: _agreement(data, j, retained, fits, grid) for j in retained}
        agreement.update(results)
        significant = [j for j in results if min(1.0, np.nan_to_num(results[j][3], nan=1.0) * tests) < options.alpha
                       and _ratio(rows[j]["profile_positive_rate"], results[j][0]) > options.agreement_margin]
        if not significant or len(retained) < 3:
            break
        # among the significant ones beyond the margin, the largest relative discrepancy goes first (a deterministic order: the
        # z-scores carry bootstrap noise, the observed / predicted ratio does not)
        worst = max(significant, key=lambda j: abs(np.log(max(rows[j]["profile_positive_rate"], 1e-6)
                                                          / max(results[j][0], 1e-6))))
        agreement_failed.append(worst)
        retained.remove(worst)
    for j in range_failed:  # reported against the final retained set
        if retained:
            agreement[j] = _agreement(data, j, retained, fits, grid)
    for j, row in enumerate(rows):
        predicted, predicted_se, z, p = agreement.get(j, (np.nan,) * 4)
        row.update(predicted_positive_rate=predicted, predicted_positive_rate_se=predicted_se,
                   agreement_z=z, agreement_p_value=p)
        reasons = []
        if j in range_failed:
            reasons.append(
                f"positive rate on profiles {row['profile_positive_rate']:.2%} (se {row['profile_positive_rate_se']:.2%}) "
                f"outside the range its rated-CV parameters allow [{min(row['rated_false_positive_rate'], row['rated_sensitivity']):.2%}, "
                f"{max(row['rated_false_positive_rate'], row['rated_sensitivity']):.2%}] (p = {row['range_p_value']:.2g}, "
                f"{row['n_companies_outside_range']} of {row['n_companies_tested']} companies outside)")
        if j in agreement_failed:
            reasons.append(
                f"disagrees with the other annotators on profiles: positive rate {row['profile_positive_rate']:.2%}, "
                f"predicted from the others {predicted:.2%} (z = {z:.1f}, p = {p:.2g})")
        row["excluded"] = bool(reasons)
        if not reasons and not np.isnan(p) and min(1.0, p * tests) < options.alpha:
            ratio = _ratio(row["profile_positive_rate"], predicted)
            if ratio <= options.agreement_margin:
                reasons.append(f"kept, with a warning: positive rate on profiles {row['profile_positive_rate']:.2%} against "
                               f"{predicted:.2%} predicted from the others (z = {z:.1f}, p = {p:.2g}) - significant, but "
                               f"within the {options.agreement_margin:g}x margin")
            else:
                reasons.append(f"kept, but disagrees with the other retained annotator(s) (z = {z:.1f}, p = {p:.2g}); "
                               "with two annotators left neither can be singled out")
        row["reason"] = "; ".join(reasons)
    return pl.DataFrame(rows, schema=TRANSPORT_SCHEMA).select(list(TRANSPORT_SCHEMA))


def company_predictive_check(
    data: PatternData,
    pattern_log_likelihood,
    posterior: np.ndarray,
    grid: PrevalenceGrid,
    n_replicates: int = 40,
    rng: np.random.Generator | None = None,
) -> pl.DataFrame:
    """Posterior-predictive check of each sampled company's pattern counts under the fitted model.

    ``pattern_log_likelihood(patterns)`` returns the fitted model's (n, 2) log P(pattern | class) for any
    patterns; ``posterior`` is each company's prevalence posterior on ``grid``. Employees are grouped by which
    annotators labelled them (missingness taken as given); within a group the 2^d label vectors have
    probabilities pi P(x | expert) + (1 - pi) P(x | not). Discrepancy: G^2 between the observed counts and their
    posterior-predictive expectation; p-value: its tail probability under the replicate samples' distribution
    (pi drawn from the company's posterior, counts multinomial; a scaled chi-square matched to their mean and
    variance, so p-values below 1 / R are possible). ``p_adjusted``
    is Holm-corrected over the companies tested.
    Returns company_id, n_sampled, discrepancy, p_value, p_adjusted.
    """
    rng = rng or np.random.default_rng(0)
    n_companies = data.n_companies
    masks, mask_of_pattern = np.unique(data.patterns != MISSING, axis=0, return_inverse=True)
    mask_of_pattern = mask_of_pattern.reshape(-1)
    discrepancy = np.zeros(n_companies)
    replicate_discrepancy = np.zeros((n_companies, n_replicates))
    pi_draws = sample_prevalence(posterior_cdf(posterior), grid, n_replicates, rng)  # (companies, R)
    for g, mask in enumerate(masks):
        dims = np.flatnonzero(mask)
        entries = np.flatnonzero(mask_of_pattern[data.entry_pattern] == g)
        if entries.size == 0 or dims.size == 0:
            continue
        states = _full_states(dims.size)
        vectors = np.full((states.shape[0], data.patterns.shape[1]), MISSING, dtype=np.int8)
        vectors[:, dims] = states
        log_lik = pattern_log_likelihood(vectors)
        p0, p1 = np.exp(log_lik[:, 0]), np.exp(log_lik[:, 1])
        p0, p1 = p0 / p0.sum(), p1 / p1.sum()
        codes = (np.where(data.patterns[data.entry_pattern[entries]][:, dims] == 1, 1, 0)
                 << np.arange(dims.size)[None, :]).sum(axis=1)
        counts = np.zeros((n_companies, states.shape[0]))
        np.add.at(counts, (data.entry_company[entries], codes), data.entry_count[entries])
        size = counts.sum(axis=1)
        expected = size[:, None] * (posterior @ (np.outer(grid.values, p1) + np.outer(1 - grid.values, p0)))
        discrepancy += _g_squared(counts, expected)
        for r in range(n_replicates):
            probs = pi_draws[:, r:r + 1] * p1[None, :] + (1 - pi_draws[:, r:r + 1]) * p0[None, :]
            probs /= probs.sum(axis=1, keepdims=True)
            simulated = rng.multinomial(size.astype(np.int64), probs)
            replicate_discrepancy[:, r] += _g_squared(simulated, expected)
    sampled = data.n_sampled > 0
    # the replicates' discrepancies, matched in mean and variance by a scaled chi-square (a gamma), give the
    # tail probability: a rank p-value from R replicates cannot go below 1 / (R + 1), which no Holm correction
    # over thousands of companies would ever reject
    mean = replicate_discrepancy.mean(axis=1)
    variance = replicate_discrepancy.var(axis=1, ddof=1) if n_replicates > 1 else mean
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = mean ** 2 / variance
        scale = variance / mean
        p_value = np.where(np.isfinite(shape) & (shape > 0), stats.gamma.sf(discrepancy, shape, scale=scale), 1.0)
    p_value = np.where(sampled, p_value, np.nan)
    return pl.DataFrame({
        "company_id": data.company_ids, "n_sampled": data.n_sampled,
        "discrepancy": np.where(sampled, discrepancy, np.nan), "p_value": p_value,
        "p_adjusted": holm_adjust(p_value),
    }).with_columns(pl.col("discrepancy", "p_value", "p_adjusted").fill_nan(None))


def _g_squared(counts: np.ndarray, expected: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts * np.log(counts / np.maximum(expected, 1e-300)), 0.0)
    return 2.0 * terms.sum(axis=1)
