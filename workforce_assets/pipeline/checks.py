"""Asset checks: the invariants a reader of the warehouse relies on."""


import dagster as dg
import polars as pl

from workforce_assets.headcount import checks as headcount_checks

from workforce_assets.pipeline import headcount_assets as hc
from workforce_assets.pipeline import ingestion_assets as ing
from workforce_assets.pipeline import labor_assets as lab
from workforce_assets.pipeline.resources import WarehouseResource


def _count(warehouse: WarehouseResource, sql: str) -> int:
    return int(warehouse.query(sql).item())


def _unique_check(asset, table: str, column: str, name: str):
    @dg.asset_check(asset=asset, name=name, description=f"{column} is unique in {table}", blocking=True)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        dupes = _count(warehouse, f"select count(*) from (select {column} from {table} group by {column} having count(*) > 1)")
        nulls = _count(warehouse, f"select count(*) from {table} where {column} is null")
        return dg.AssetCheckResult(passed=dupes == 0 and nulls == 0, metadata={"duplicated_ids": dupes, "null_ids": nulls})

    return _check


rated_cv_ids_unique = _unique_check(ing.rated_cvs, "inputs.rated_cvs", "cv_id", "cv_id_unique")
company_ids_unique = _unique_check(ing.companies, "inputs.companies", "company_id", "company_id_unique")
profile_ids_unique = _unique_check(ing.employee_profiles, "inputs.employee_profiles", "profile_id", "profile_id_unique")


@dg.asset_check(asset=ing.companies, description="every headcount is an integer >= 1")
def headcount_positive(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    bad = _count(warehouse, "select count(*) from inputs.companies where headcount is null or headcount < 1")
    return dg.AssetCheckResult(passed=bad == 0, metadata={"bad_rows": bad})


@dg.asset_check(asset=hc.annotator_parameters, description="sensitivity, specificity and their bounds are probabilities, lower <= estimate <= upper")
def annotator_parameters_are_probabilities(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    bad = _count(
        warehouse,
        """select count(*) from headcount.annotator_parameters where not (
             sensitivity between 0 and 1 and specificity between 0 and 1
             and sensitivity_lower <= sensitivity and sensitivity <= sensitivity_upper
             and specificity_lower <= specificity and specificity <= specificity_upper
             and sensitivity_lower >= 0 and sensitivity_upper <= 1 and specificity_lower >= 0 and specificity_upper <= 1)""",
    )
    return dg.AssetCheckResult(passed=bad == 0, metadata={"bad_rows": bad})


@dg.asset_check(asset=hc.company_posteriors, description="q05 <= q10 <= q50 <= q90 <= q95, 0 <= count <= headcount, probabilities in [0,1]")
def posteriors_are_coherent(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    problems = headcount_checks.company_posterior_violations(warehouse.read("headcount.company_posteriors"))
    return dg.AssetCheckResult(passed=not problems, metadata={"violations": problems})


@dg.asset_check(asset=hc.company_posteriors, description="annotators used for profiles are, by name, a subset of those with parameters")
def profile_annotators_have_parameters(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    profile = hc.annotator_columns(warehouse.query("select * from annotation.annotation_matrix limit 0"))
    with_params = warehouse.query("select annotator from headcount.annotator_parameters where n_pos > 0 and n_neg > 0")["annotator"].to_list()
    problems = headcount_checks.annotator_subset_violations(profile, with_params)
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"profile_annotators": sorted(profile), "violations": problems},
    )


@dg.asset_check(
    asset=hc.joint_fit,
    description="Annotator transport: no annotator that behaves differently on profiles than on the rated CVs "
                "(positive rate outside its rated-CV range, or disagreeing with the other annotators) is used in "
                "the posterior. With the default policy ('exclude') failing annotators are left out and this passes, "
                "naming them; with 'warn' they stay in and this fails (warning).",
    blocking=False,
)
def annotators_transport(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    table = warehouse.read(hc.TRANSPORT_TABLE)
    failing = table.filter(pl.col("reason").fill_null("").str.len_chars() > 0)
    tested = table.filter(pl.col("left_out_for").fill_null("") != "missing labels")
    used_but_failing = tested.filter(~pl.col("excluded") & pl.col("reason").fill_null("").str.contains("disagrees|outside")
                                     & ~pl.col("reason").fill_null("").str.starts_with("kept,"))
    return dg.AssetCheckResult(
        passed=used_but_failing.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "excluded": dg.MetadataValue.json(table.filter(pl.col("excluded"))["annotator"].to_list()),
            "used_despite_failing": dg.MetadataValue.json(used_but_failing["annotator"].to_list()),
            "reasons": dg.MetadataValue.json(dict(zip(failing["annotator"].to_list(), failing["reason"].to_list()))),
        },
    )


@dg.asset_check(
    asset=hc.joint_fit,
    description="Posterior-predictive check: each sampled company's annotation-pattern counts are plausible under the "
                "fitted model (G^2 discrepancy against its posterior-predictive replicates, Holm-corrected over companies >= 0.01).",
    blocking=False,
)
def companies_fit_the_model(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    fit = warehouse.read(hc.FIT_TABLE)
    bad = fit.filter(pl.col("p_adjusted") < 0.01)
    return dg.AssetCheckResult(
        passed=bad.height == 0, severity=dg.AssetCheckSeverity.WARN,
        metadata={"n_tested": int(fit["p_value"].is_not_null().sum()) if fit.height else 0, "n_misfit": bad.height,
                  "misfit_companies": dg.MetadataValue.json(bad["company_id"].head(20).to_list())},
    )


@dg.asset_check(
    asset=hc.joint_fit,
    description="Monte Carlo error: for every company with >= 100 sampled employees the standard error of q10, q50 and "
                "q90 is under max(0.5% of the median, 0.7 experts), so two seeds agree within 2% of the median or 2 experts.",
    blocking=False,
)
def monte_carlo_error_small(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    summary = warehouse.read(hc.JOINT_TABLE).filter(pl.col("n_sampled") >= 100)
    target = pl.max_horizontal(0.005 * pl.col("q50"), pl.lit(0.7))
    bad = summary.filter((pl.col("mcse_q10") > target) | (pl.col("mcse_q50") > target) | (pl.col("mcse_q90") > target))
    return dg.AssetCheckResult(
        passed=bad.height == 0, severity=dg.AssetCheckSeverity.WARN,
        metadata={"n_checked": summary.height, "n_above_target": bad.height,
                  "above_target": dg.MetadataValue.json(bad["company_id"].head(20).to_list())},
    )


@dg.asset_check(asset=hc.joint_fit, description="q05 <= q10 <= q50 <= q90 <= q95, 0 <= count <= headcount, probabilities in [0,1] (all companies)")
def joint_estimate_is_coherent(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    problems = headcount_checks.company_posterior_violations(warehouse.read(hc.JOINT_TABLE))
    return dg.AssetCheckResult(passed=not problems, metadata={"violations": problems})


@dg.asset_check(asset=hc.log_debias, description="lower80 <= estimate <= upper80 and all positive")
def log_debias_interval_ordered(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    bad = _count(warehouse, "select count(*) from headcount.log_debias where estimate is not null and not (lower80 <= estimate and estimate <= upper80 and lower80 > 0)")
    return dg.AssetCheckResult(passed=bad == 0, metadata={"bad_rows": bad})


def _eval_check(spec_key, table: str, name: str):
    @dg.asset_check(asset=spec_key, name=name, description=f"{table} is long (method, metric, value) with finite values")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        n = _count(warehouse, f"select count(*) from {table}")
        bad = _count(warehouse, f"select count(*) from {table} where value is null or isnan(value) or isinf(value)")
        return dg.AssetCheckResult(passed=n > 0 and bad == 0, metadata={"rows": n, "non_finite": bad})

    return _check


archetype_eval_finite = _eval_check(lab.archetype_eval, "labor.archetype_eval", "archetype_eval_finite")
salary_eval_finite = _eval_check(dg.AssetKey(["labor", "salary_eval"]), "labor.salary_eval", "salary_eval_finite")
headcount_eval_finite = _eval_check(dg.AssetKey(["labor", "headcount_eval"]), "labor.headcount_eval", "headcount_eval_finite")

ALL_CHECKS = [
    rated_cv_ids_unique, company_ids_unique, profile_ids_unique, headcount_positive,
    annotator_parameters_are_probabilities, posteriors_are_coherent, profile_annotators_have_parameters,
    log_debias_interval_ordered, annotators_transport, companies_fit_the_model, monte_carlo_error_small,
    joint_estimate_is_coherent, archetype_eval_finite, salary_eval_finite, headcount_eval_finite,
]
