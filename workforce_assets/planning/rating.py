"""What to rate next: the unrated profiles whose human rating would most reduce the annotator model's uncertainty.

The annotator model turns each annotation pattern s into a likelihood ratio LR_s = P(s | expert) /
P(s | not expert). Its uncertainty is visible in the fitted model's parameter replicates (bootstrap or
Dirichlet draws of the rated-CV counts). For each pattern seen among the sampled employees:

* ``V_s``: the variance, across replicates, of the expected number of experts among the sampled employees
  who show pattern s (sum over companies of n_cs * P(expert | s, company's posterior-mean prevalence)): how
  much the headcounts move because LR_s is not pinned down;
* a rating adds one rated item with pattern s. The pattern's replicate spread comes from its rated counts
  (n_s rated items), and a variance estimated from n_s items scales as 1 / (n_s + 1) (one pseudo-item), so
  rating one more cuts it by the factor (n_s + 1) / (n_s + 2): expected reduction V_s / (n_s + 2).

The plan is greedy: the best pattern's next profile, then its variance and count are updated, and so on.
Approximations, said plainly: covariances between patterns are ignored (the probit and log-linear models share
parameters across patterns, so a rating helps neighbouring patterns too, which this undercounts), and the
1 / n scaling is that of a saturated (per-pattern) model.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special

from workforce_assets.headcount.patterns import MISSING, label_matrix

PLAN_SCHEMA = {"rank": pl.Int64, "item_id": pl.Utf8, "company_id": pl.Utf8, "pattern": pl.Utf8,
               "n_profiles_with_pattern": pl.Int64, "n_rated_with_pattern": pl.Float64, "p_expert": pl.Float64,
               "parameter_variance": pl.Float64, "expected_reduction": pl.Float64,
               "cumulative_expected_reduction": pl.Float64}


def pattern_text(row: np.ndarray, annotators: list[str]) -> str:
    return ", ".join(f"{a}={'-' if v == MISSING else int(v)}" for a, v in zip(annotators, row))


def pattern_variances(model) -> pl.DataFrame:
    """Per pattern of the fitted model: profiles showing it, rated items with it, P(expert | s) at the pooled
    prevalence and the across-replicate variance ``parameter_variance`` of its expected expert count."""
    data = model.data_
    counts = np.asarray(data.company_pattern_matrix().todense())  # (C, P)
    posterior = model.prevalence_posteriors(0)
    prevalence = posterior @ model.grid_.values  # posterior mean per company
    def expert_probability(log_prior_odds, log_ratio):  # P(expert | pattern, prevalence), in log-odds
        return special.expit(log_prior_odds + log_ratio)

    with np.errstate(divide="ignore"):
        company_odds = special.logit(np.clip(prevalence, 0.0, 1.0))[:, None]
    expected = []
    for replicate in model.replicates_:
        log_ratio = (replicate.log_lik[:, 1] - replicate.log_lik[:, 0])[None, :]
        expected.append((counts * expert_probability(company_odds, log_ratio)).sum(axis=0))
    expected = np.array(expected)  # (R, P)
    pooled = float(np.average(prevalence, weights=np.maximum(data.n_sampled, 0) + 1e-12))
    mean_log_ratio = np.mean([r.log_lik[:, 1] - r.log_lik[:, 0] for r in model.replicates_], axis=0)
    with np.errstate(divide="ignore"):
        p_expert = expert_probability(special.logit(min(max(pooled, 0.0), 1.0)), mean_log_ratio)
    return pl.DataFrame({
        "pattern_index": np.arange(data.patterns.shape[0]),
        "pattern": [pattern_text(row, data.annotators) for row in data.patterns],
        "n_profiles_with_pattern": counts.sum(axis=0).astype(np.int64),
        "n_rated_with_pattern": data.rated_counts.sum(axis=1),
        "p_expert": p_expert,
        "parameter_variance": expected.var(axis=0, ddof=1) if expected.shape[0] > 1 else np.zeros(expected.shape[1]),
    })


def profile_patterns(model, samples: pl.DataFrame) -> pl.DataFrame:
    """Each sampled profile (``item_id``, ``company_id`` + annotator columns) with the index of its pattern."""
    data = model.data_
    labels = label_matrix(samples, data.annotators, "annotation matrix")
    index = {tuple(row): i for i, row in enumerate(data.patterns.tolist())}
    found = [index.get(tuple(row)) for row in labels.tolist()]
    return samples.select("item_id", "company_id").with_columns(pattern_index=pl.Series(found, dtype=pl.Int64))


def plan_ratings(model, samples: pl.DataFrame, n_items: int = 100, seed: int = 0) -> pl.DataFrame:
    """The ranked list of profiles to rate (schema :data:`PLAN_SCHEMA`)."""
    if n_items < 1:
        raise ValueError("n_items must be at least 1")
    patterns = pattern_variances(model)
    profiles = profile_patterns(model, samples).filter(pl.col("pattern_index").is_not_null())
    rng = np.random.default_rng(seed)
    profiles = profiles.with_columns(_order=pl.Series(rng.permutation(profiles.height))).sort("_order").drop("_order")
    queues = {int(k[0]): group["item_id"].to_list() for k, group in profiles.group_by("pattern_index")}
    companies = dict(zip(profiles["item_id"].to_list(), profiles["company_id"].to_list()))
    variance = dict(zip(patterns["pattern_index"].to_list(), patterns["parameter_variance"].to_list()))
    rated = dict(zip(patterns["pattern_index"].to_list(), patterns["n_rated_with_pattern"].to_list()))
    info = {row["pattern_index"]: row for row in patterns.iter_rows(named=True)}
    rows, total = [], 0.0
    while len(rows) < n_items:
        open_patterns = [s for s, queue in queues.items() if queue]
        if not open_patterns:
            break
        gains = {s: variance[s] / (rated[s] + 2.0) for s in open_patterns}
        best = max(open_patterns, key=lambda s: (gains[s], -s))
        if gains[best] <= 0:
            break
        item = queues[best].pop(0)
        total += gains[best]
        rows.append({"rank": len(rows) + 1, "item_id": item, "company_id": companies[item],
                     "pattern": info[best]["pattern"], "n_profiles_with_pattern": info[best]["n_profiles_with_pattern"],
                     "n_rated_with_pattern": rated[best], "p_expert": info[best]["p_expert"],
                     "parameter_variance": variance[best], "expected_reduction": gains[best],
                     "cumulative_expected_reduction": total})
        variance[best] *= (rated[best] + 1.0) / (rated[best] + 2.0)
        rated[best] += 1.0
    return pl.DataFrame(rows, schema=PLAN_SCHEMA)
