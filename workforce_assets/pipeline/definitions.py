"""The code location: every asset, check, job, sensor and schedule, with resources from the environment."""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path
from types import ModuleType

import dagster as dg

from workforce_assets.pipeline import (
    annotation_assets,
    headcount_assets,
    ingestion_assets,
    labor_assets,
    planning_assets,
    profile_assets,
    report_assets,
)
from workforce_assets.pipeline.automation import (
    automation_condition_for,
    automation_sensor,
    batch_job,
    new_company_batches,
    posteriors_job,
    shared_job,
)
from workforce_assets.pipeline.checks import ALL_CHECKS
from workforce_assets.pipeline.resources import default_resources

ASSET_MODULES = [ingestion_assets, annotation_assets, headcount_assets, labor_assets, report_assets, profile_assets,
                 planning_assets]
OWNERS = ["team:workforce_assets"]
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _core_packages(module: ModuleType) -> list[str]:
    """The pure-core packages (ingestion, annotation, headcount, labor, ...) a pipeline module uses."""
    found = set()
    for value in vars(module).values():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        if isinstance(name, str) and name.startswith("workforce_assets.") and not name.startswith("workforce_assets.pipeline"):
            found.add(name.split(".")[1])
    return sorted(found)


def source_code_version(module: ModuleType) -> str:
    """A code version from source: the pipeline module, the shared pipeline helpers and every file of the
    core packages it uses (conservative: a change anywhere in a domain marks all its assets changed; a
    change that matters is never missed)."""
    files = [Path(inspect.getfile(module)), PACKAGE_ROOT / "pipeline" / "metadata.py",
             PACKAGE_ROOT / "pipeline" / "resources.py"]
    for package in _core_packages(module):
        folder = PACKAGE_ROOT / package
        files += sorted(folder.rglob("*.py")) + sorted(folder.rglob("*.txt")) if folder.is_dir() else [folder.with_suffix(".py")]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _versioned_assets() -> list:
    """Every asset, with the code version of the module that defines it, the owners and its automation
    condition (:func:`workforce_assets.pipeline.automation.automation_condition_for`)."""
    versions = {module.__name__: source_code_version(module) for module in ASSET_MODULES}
    assets = []
    for definition in dg.load_assets_from_modules(ASSET_MODULES):
        if not definition.is_executable:  # external assets (the input files themselves): nothing to version
            assets.append(definition)
            continue
        module = definition.op.compute_fn.decorated_fn.__module__
        version = versions[module]
        assets += dg.map_asset_specs(lambda spec, v=version: spec.replace_attributes(
            code_version=v, owners=OWNERS, automation_condition=automation_condition_for(spec)), [definition])
    return assets


def build_definitions(input_dir: str | Path | None = None, duckdb_path: str | Path | None = None) -> dg.Definitions:
    """Definitions with resources bound to an input directory and a DuckDB file (defaults: environment)."""
    return dg.Definitions(
        assets=[*_versioned_assets(), ingestion_assets.profile_files],
        asset_checks=ALL_CHECKS,
        jobs=[batch_job, posteriors_job, shared_job],
        sensors=[new_company_batches, automation_sensor],
        resources=default_resources(input_dir, duckdb_path),
        executor=dg.in_process_executor,
    )
