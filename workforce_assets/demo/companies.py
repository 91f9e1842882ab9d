"""The headcount world: companies, their true ML-expert prevalence, and the employee samples drawn from them.

Zero-inflated prevalence (a quarter of the companies have no expert at all, AI-lab-like ones have many)
is what makes naive "sample share x headcount" estimates misleading, and what the company posteriors
must recover. The true count in the whole company and in the sample are both kept as ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from workforce_assets.demo import vocabulary as vocab
from workforce_assets.demo.profile_text import neutral_words

ZERO_PREVALENCE_SHARE = 0.25
UNSAMPLED_SHARE = 0.05
MIN_PREVALENCE, MAX_PREVALENCE = 0.005, 0.40
MIN_HEADCOUNT_LOG10, MAX_HEADCOUNT_LOG10 = 1.0, 5.0
MIN_SAMPLE = 20


@dataclass(frozen=True)
class CompanyWorld:
    """Companies (one row each, with truth columns) and the sampled employees (one row per profile)."""

    companies: pl.DataFrame  # company_id, company_name, headcount, country, industry, prevalence, true_ml_experts, n_sampled, true_ml_in_sample, batch
    employees: pl.DataFrame  # company_id, batch, is_ml_expert (Int8)


def _draw_categories(names: list[str], weights: list[float], size: int, rng: np.random.Generator) -> np.ndarray:
    probabilities = np.asarray(weights, dtype=float)
    return np.array(names, dtype=object)[rng.choice(len(names), size=size, p=probabilities / probabilities.sum())]


def _company_names(industries: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Unique fictional names 'Northwind Analytics' style (first word never reused while words remain)."""
    first_words = neutral_words(vocab.NAME_FIRST_WORDS)
    order = rng.permutation(len(first_words))
    names: list[str] = []
    taken: set[str] = set()
    for i, industry in enumerate(industries):
        words = neutral_words(vocab.INDUSTRY_NAME_WORDS[industry])
        candidate = f"{first_words[order[i % len(first_words)]]} {words[rng.integers(len(words))]}"
        suffix = 2
        while candidate in taken:
            candidate = f"{candidate.rsplit(' #', 1)[0]} #{suffix}"
            suffix += 1
        taken.add(candidate)
        names.append(candidate)
    return names


def simulate_companies(n_companies: int, n_batches: int, max_sample_per_company: int, rng: np.random.Generator) -> CompanyWorld:
    """Draw companies, prevalences, true counts K ~ Binomial(N, p) and hypergeometric samples."""
    if n_companies < 1 or n_batches < 1 or max_sample_per_company < 1:
        raise ValueError("n_companies, n_batches and max_sample_per_company must all be >= 1")
    industry_names = list(vocab.INDUSTRIES)
    industries = _draw_categories(industry_names, [vocab.INDUSTRIES[i][0] for i in industry_names], n_companies, rng)
    countries = _draw_categories(list(vocab.COUNTRIES), list(vocab.COUNTRIES.values()), n_companies, rng)
    headcount = np.maximum(1, np.round(10 ** rng.uniform(MIN_HEADCOUNT_LOG10, MAX_HEADCOUNT_LOG10, n_companies))).astype(np.int64)

    beta_a = np.array([vocab.INDUSTRIES[i][1][0] for i in industries])
    beta_b = np.array([vocab.INDUSTRIES[i][1][1] for i in industries])
    # Non-zero prevalences live in [0.5%, 40%]: a Beta stretched onto that range (no pile-up at the bounds).
    prevalence = MIN_PREVALENCE + (MAX_PREVALENCE - MIN_PREVALENCE) * rng.beta(beta_a, beta_b)
    # Exactly a quarter of the companies (never an AI lab) have no expert: a fixed share keeps small worlds honest.
    eligible = np.flatnonzero(industries != "AI research lab")
    n_zero = min(int(round(ZERO_PREVALENCE_SHARE * n_companies)), eligible.size)
    prevalence[rng.choice(eligible, size=n_zero, replace=False)] = 0.0
    true_experts = rng.binomial(headcount, prevalence)

    lo = min(MIN_SAMPLE, max_sample_per_company)
    planned = np.round(np.exp(rng.uniform(np.log(lo), np.log(max_sample_per_company), n_companies))).astype(np.int64)
    n_sampled = np.minimum(headcount, planned)
    n_unsampled = int(round(UNSAMPLED_SHARE * n_companies)) if n_companies >= 10 else 0
    n_sampled[rng.choice(n_companies, size=n_unsampled, replace=False)] = 0
    # Sampling without replacement from N employees of whom K are experts: hypergeometric expert count.
    experts_in_sample = rng.hypergeometric(true_experts, headcount - true_experts, np.maximum(n_sampled, 1)) * (n_sampled > 0)

    sampled = np.flatnonzero(n_sampled > 0)
    batch_of = np.full(n_companies, "", dtype=object)
    batch_of[sampled[rng.permutation(sampled.size)]] = [f"batch_{(j % n_batches) + 1:02d}" for j in range(sampled.size)]

    companies = pl.DataFrame(
        {
            "company_id": [f"co_{i + 1:03d}" for i in range(n_companies)],
            "company_name": _company_names(industries, rng),
            "headcount": headcount,
            "country": countries.astype(str),
            "industry": industries.astype(str),
            "prevalence": np.round(prevalence, 6),
            "true_ml_experts": true_experts.astype(np.int64),
            "n_sampled": n_sampled,
            "true_ml_in_sample": experts_in_sample.astype(np.int64),
            "batch": batch_of.astype(str),
        }
    )

    # Employees: per sampled company, k experts and n - k non-experts in a random order, grouped by batch.
    ordered = companies.filter(pl.col("n_sampled") > 0).sort(["batch", "company_id"])
    repeats = ordered["n_sampled"].to_numpy()
    company_rows = np.repeat(np.arange(ordered.height), repeats)
    rank_in_company = np.arange(company_rows.size) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    shuffled_rank = rank_in_company[np.argsort(company_rows + rng.random(company_rows.size), kind="stable")]
    is_expert = shuffled_rank < np.repeat(ordered["true_ml_in_sample"].to_numpy(), repeats)
    employees = pl.DataFrame(
        {
            "company_id": ordered["company_id"].to_numpy()[company_rows],
            "batch": ordered["batch"].to_numpy()[company_rows],
            "is_ml_expert": is_expert.astype(np.int8),
        }
    )
    return CompanyWorld(companies=companies, employees=employees)
