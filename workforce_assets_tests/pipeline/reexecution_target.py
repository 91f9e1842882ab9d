"""Module-level job factories, so a test can re-execute a CLI run as the UI does (a reconstructable job)."""

from workforce_assets.pipeline.definitions import build_definitions


def shared_assets_job():
    return build_definitions().resolve_job_def("shared_assets_job")
