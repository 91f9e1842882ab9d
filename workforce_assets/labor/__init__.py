"""labor domain (pure core: no Dagster): US DOL job records -> roles, archetype matrix and models.

Modules, in pipeline order:
* ``roles``: canonical role (SOC code first, title cues otherwise) and seniority from title cues.
* ``matrix``: records that feed the models (certified, deduplicated) and the company x archetype matrix
  (archetype = role|seniority|state) with its sparse forms.
* ``existence``: which archetypes a company probably has but did not file (honest masked evaluation,
  LightGBM over co-occurrence and affinity features, chunked full-matrix scoring).
* ``salary``: LightGBM quantile salary model with conformal 80% bands, employer-held-out evaluation.
* ``headcount_model``: workers per (company, role, state), company-held-out evaluation vs the template.
* ``questions``: market size of an archetype, peer gaps of a company.
* ``plots``: plotly HTML figures of the evaluations.
* ``synthetic``: seeded synthetic worlds for tests and benchmarks.
"""
