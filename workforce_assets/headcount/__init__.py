"""headcount domain (pure): annotator parameters, pattern likelihoods, company posteriors, totals, log-debias.

Public entry points (the Dagster layer calls these):
    annotator_parameters(rated, annotators, confidence=0.8)
    HeadcountModel(**options).fit(rated, samples, companies).sample(n_draws, seed)   # model.py: the estimator
    estimate_company_headcounts(rated, samples, companies, annotators, n_draws=1000, seed=0, **options)
    annotator_transport(pattern_data), company_predictive_check(...)                 # transport.py
    totals(draws, company_ids, groups=None)
    log_debias(counts, filter_methods, llm_methods, id_column="company_id")
    method_counts_from_samples(samples, companies, annotators)
    rogan_gladen_consensus(counts, rated, methods, populations=None, ...)
    company_posterior_violations(summary), annotator_subset_violations(profile_annotators, parameter_annotators)
    write_figures(directory, summary=None, parameters=None, calibration=None)   # plots.py (imports plotly)
"""

from workforce_assets.headcount.calibrated_debias import rogan_gladen_consensus
from workforce_assets.headcount.checks import annotator_subset_violations, company_posterior_violations
from workforce_assets.headcount.log_debias import log_debias, method_counts_from_samples
from workforce_assets.headcount.parameters import annotator_parameters
from workforce_assets.headcount.model import HeadcountModel, HeadcountOptions
from workforce_assets.headcount.posterior import HeadcountEstimate, estimate_company_headcounts, totals
from workforce_assets.headcount.transport import annotator_transport, company_predictive_check

__all__ = [
    "HeadcountEstimate",
    "HeadcountModel",
    "HeadcountOptions",
    "annotator_transport",
    "company_predictive_check",
    "annotator_parameters",
    "annotator_subset_violations",
    "company_posterior_violations",
    "estimate_company_headcounts",
    "log_debias",
    "method_counts_from_samples",
    "rogan_gladen_consensus",
    "totals",
]
