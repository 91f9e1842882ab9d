"""A small simulated demo world materialized once, end to end, into a temporary DuckDB file and instance."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

LLM_KEY_VARIABLES = ("GEMINI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "WORKFORCE_LLM_API_BASE")


@dataclass
class Materialized:
    input_dir: Path
    duckdb_path: Path
    dagster_home: Path
    report: object
    instance: object


@pytest.fixture(scope="session")
def isolated_env(tmp_path_factory):
    """Environment of a fresh user: temporary paths, no LLM keys, no Modal."""
    root = tmp_path_factory.mktemp("workforce")
    with pytest.MonkeyPatch.context() as mp:
        for name in LLM_KEY_VARIABLES + ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET"):
            mp.delenv(name, raising=False)
        mp.setenv("WORKFORCE_INPUT_DIR", str(root / "demo"))
        mp.setenv("WORKFORCE_DUCKDB_PATH", str(root / "warehouse.duckdb"))
        mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        mp.setenv("WORKFORCE_POSTERIOR_DRAWS", "200")
        yield root


@pytest.fixture(scope="session")
def materialized_demo(isolated_env) -> Materialized:
    from workforce_assets.demo import DemoConfig, generate_demo_world
    from workforce_assets.pipeline.runner import ensure_instance, materialize

    input_dir = Path(os.environ["WORKFORCE_INPUT_DIR"])
    generate_demo_world(input_dir, DemoConfig.small())
    instance = ensure_instance(Path(os.environ["DAGSTER_HOME"]))
    report = materialize(input_dir, duckdb_path=Path(os.environ["WORKFORCE_DUCKDB_PATH"]), instance=instance)
    return Materialized(input_dir, Path(os.environ["WORKFORCE_DUCKDB_PATH"]), Path(os.environ["DAGSTER_HOME"]), report, instance)
