"""demo domain: the seeded, SIMULATED demo world (input contract + ground truth). Pure core, no Dagster."""

from workforce_assets.demo.world import DemoConfig, DemoSummary, generate_demo_world

__all__ = ["DemoConfig", "DemoSummary", "generate_demo_world"]
