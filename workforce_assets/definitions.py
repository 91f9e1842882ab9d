"""Dagster code location entry point (`dagster dev`, `dagster asset materialize -m workforce_assets.definitions`)."""

from workforce_assets.pipeline.definitions import build_definitions

defs = build_definitions()
