"""Demo worlds generated once per test session (small: ~0.3 s, default: ~1 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workforce_assets.demo import DemoConfig, DemoSummary, generate_demo_world


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> DemoSummary:
    return generate_demo_world(tmp_path_factory.mktemp("small_world"), DemoConfig.small())


@pytest.fixture(scope="session")
def default_world(tmp_path_factory) -> DemoSummary:
    return generate_demo_world(tmp_path_factory.mktemp("default_world"), DemoConfig())


def read_all_bytes(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}
