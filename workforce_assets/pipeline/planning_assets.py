"""Assets of the `planning` group: where the next annotation dollar and the next hour of human rating buy the
most certainty, computed on the fitted headcount model of ``headcount/joint_fit``.

``planning/sampling_plan``: each company's expected 80%-interval width after 10, 50 and 200 more sampled
employees (pre-posterior simulation, :mod:`workforce_assets.planning.sampling`) and the ranked plan that
spends a budget (employees x LLM annotators x price per call) where it shrinks the summed width of the
selected companies most. ``planning/rating_plan``: the unrated profiles whose human rating would most reduce
the annotator model's uncertainty (:mod:`workforce_assets.planning.rating`). Simulation against random
allocation: docs/validation.md section 9.
"""


import logging

import dagster as dg
import polars as pl

from workforce_assets.pipeline.annotation_assets import annotation_matrix
from workforce_assets.pipeline.headcount_assets import joint_fit, load_model
from workforce_assets.pipeline.metadata import markdown_table, report_dir, report_links, table_metadata
from workforce_assets.pipeline.partitions import DUCKDB_POOL
from workforce_assets.pipeline.resources import WarehouseResource
from workforce_assets.planning import plots as planning_plots
from workforce_assets.planning import rating as rating_core
from workforce_assets.planning import sampling as sampling_core
from workforce_assets.progress import Progress

log = logging.getLogger(__name__)

GROUP = "planning"
SAMPLING_TABLE = "planning.sampling_plan"
CURVE_TABLE = "planning.sampling_budget_curve"
RATING_TABLE = "planning.rating_plan"


class SamplingPlanConfig(dg.Config):
    """The budget to plan, what one sampled employee costs (each LLM annotator in the fitted model is one call;
    keyword filters are free; ``price_per_profile_usd`` is what acquiring one profile costs), the companies
    whose summed interval width to minimise (empty: every company) and the simulation size."""

    budget_usd: float = 50.0
    price_per_call_usd: float = 0.002
    price_per_profile_usd: float = 0.0
    companies: list[str] = []
    n_simulations: int = 40
    seed: int = 0


class RatingPlanConfig(dg.Config):
    """How many profiles to rank for human rating."""

    n_items: int = 100
    seed: int = 0


def cost_per_employee(annotators: list[str], config: SamplingPlanConfig) -> tuple[float, list[str]]:
    paid = [a for a in annotators if not a.startswith("filter_")]
    return config.price_per_profile_usd + len(paid) * config.price_per_call_usd, paid


@dg.asset(key_prefix="planning", group_name=GROUP, deps=[joint_fit], pool=DUCKDB_POOL, kinds={"duckdb", "numpy", "plotly"})
def sampling_plan(context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: SamplingPlanConfig) -> dg.MaterializeResult:
    """Per company: the expected 80%-interval width now and after 10, 50 and 200 more sampled employees
    (pre-posterior simulation on the fitted headcount model), and the ranked plan for the configured budget:
    planned_additional employees, their cost, the expected width after them and the priority
    (planning.sampling_plan). planning.sampling_budget_curve holds the summed expected width of the selected
    companies against budget, for the plan and for random allocation (figure linked)."""
    model = load_model(warehouse)
    unknown = sorted(set(config.companies) - set(model.data_.company_ids))
    if unknown:
        raise ValueError(f"companies not in the fitted model: {unknown[:10]}")
    price, paid = cost_per_employee(model.annotators_, config)
    chosen = config.companies or model.data_.company_ids
    progress = Progress("sampling plan simulations", len(chosen), context.log, unit="companies")
    widths = sampling_core.expected_widths(model, sampling_core.SamplingOptions(n_simulations=config.n_simulations,
                                                                                seed=config.seed),
                                           companies=config.companies or None, progress=progress)
    plan = sampling_core.plan_sampling(widths, price, config.budget_usd)
    # the curve spans nothing spent to the cost of every option's largest step, and the configured budget
    full = float((widths["max_additional"].clip(upper_bound=max(sampling_core.DEFAULT_STEPS)) * price).sum())
    budgets = sorted({0.0, config.budget_usd, *(full * f for f in (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0))})
    curve = sampling_core.budget_curve(widths, price, budgets, seed=config.seed)
    warehouse.write_many([(SAMPLING_TABLE, plan), (CURVE_TABLE, curve)])
    links = report_links(warehouse.path, planning_plots.write_budget_curve(report_dir(warehouse.path, "planning"), curve))
    at_budget = curve.filter(pl.col("budget_usd") == config.budget_usd).row(0, named=True)
    return dg.MaterializeResult(metadata={
        **table_metadata(plan, SAMPLING_TABLE, preview_rows=20),
        "budget_usd": dg.MetadataValue.float(config.budget_usd),
        "cost_per_employee_usd": dg.MetadataValue.float(price),
        "paid_annotators": dg.MetadataValue.json(paid),
        "planned_spend_usd": dg.MetadataValue.float(float(plan["planned_cost_usd"].sum())),
        "planned_employees": dg.MetadataValue.int(int(plan["planned_additional"].sum())),
        "summed_width_now": dg.MetadataValue.float(at_budget["expected_width_now"]),
        "summed_width_planned": dg.MetadataValue.float(at_budget["expected_width_planned"]),
        "summed_width_random_allocation": dg.MetadataValue.float(at_budget["expected_width_random"]),
        "budget_curve": dg.MetadataValue.md(markdown_table(curve.with_columns(pl.col(pl.Float64).round(1)))),
        **links,
    })


@dg.asset(
    key_prefix="planning", group_name=GROUP,
    deps=[joint_fit, dg.AssetDep(annotation_matrix, partition_mapping=dg.AllPartitionMapping())],
    pool=DUCKDB_POOL, kinds={"duckdb", "numpy"},
)
def rating_plan(warehouse: WarehouseResource, config: RatingPlanConfig) -> dg.MaterializeResult:
    """The unrated sampled profiles whose human rating would most reduce the annotator model's uncertainty,
    ranked (planning.rating_plan): each profile's annotation pattern, how many profiles and rated CVs show it,
    the across-replicate variance of that pattern's expected expert count and the expected reduction of that
    variance by one more rating (greedy, with diminishing returns within a pattern)."""
    model = load_model(warehouse)
    samples = warehouse.read("annotation.annotation_matrix").sort("item_id")
    rated_ids = set(warehouse.read("inputs.rated_cvs")["cv_id"].to_list())
    unrated = samples.filter(~pl.col("item_id").is_in(list(rated_ids)))
    plan = rating_core.plan_ratings(model, unrated, n_items=config.n_items, seed=config.seed)
    warehouse.write(RATING_TABLE, plan)
    return dg.MaterializeResult(metadata={
        **table_metadata(plan.drop("pattern"), RATING_TABLE, preview_rows=20),
        "n_unrated_profiles": dg.MetadataValue.int(unrated.height),
        "n_patterns_ranked": dg.MetadataValue.int(plan["pattern"].n_unique() if plan.height else 0),
        "expected_variance_reduction": dg.MetadataValue.float(
            float(plan["cumulative_expected_reduction"].max()) if plan.height else 0.0),
    })
