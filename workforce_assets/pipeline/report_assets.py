"""Assets of the `reports` group: plotly figures written as HTML and linked from asset metadata."""


from pathlib import Path

import dagster as dg

from workforce_assets.pipeline import headcount_assets as hc
from workforce_assets.pipeline import labor_assets as lab
from workforce_assets.pipeline.metadata import report_dir, report_links
from workforce_assets.pipeline.resources import WarehouseResource

GROUP = "reports"


def _report_dir(warehouse: WarehouseResource, name: str) -> Path:
    """$WORKFORCE_REPORTS_DIR, else a reports/ folder beside this warehouse's DuckDB file."""
    return report_dir(warehouse.path, name)


@dg.asset(
    key_prefix="reports", group_name=GROUP,
    deps=[hc.company_posteriors, hc.annotator_parameters, hc.headcount_totals, hc.log_debias], kinds={"plotly"},
)
def headcount_report(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Per-company estimates with intervals, talent landscape, annotator sensitivity vs specificity."""
    from workforce_assets.headcount import plots

    paths = plots.write_figures(
        _report_dir(warehouse, "headcount"),
        summary=warehouse.read("headcount.company_posteriors"),
        parameters=warehouse.read("headcount.annotator_parameters"),
        include_plotlyjs="directory",  # one plotly.min.js beside the pages: works offline
    )
    return dg.MaterializeResult(metadata=_links(warehouse, paths))


def _links(warehouse: WarehouseResource, paths: dict[str, Path]) -> dict:
    """Paths, and URLs under the reports server of `workforce-assets ui`."""
    return report_links(warehouse.path, paths)


@dg.asset(
    key_prefix="reports", group_name=GROUP,
    deps=[lab.archetype_eval, dg.AssetKey(["labor", "salary_eval"]), dg.AssetKey(["labor", "headcount_eval"])], kinds={"plotly"},
)
def labor_report(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Model evaluation figures for the labor-market models."""
    from workforce_assets.labor import plots

    paths = plots.write_labor_figures(
        _report_dir(warehouse, "labor"),
        archetype_eval=warehouse.read("labor.archetype_eval"),
        salary_eval=warehouse.read("labor.salary_eval"),
    )
    return dg.MaterializeResult(metadata=_links(warehouse, paths))
