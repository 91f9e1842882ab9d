"""Shared fixtures: where the real data lives (../shared/data beside the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("WORKFORCE_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data set; absent only outside this workplace (then the test is skipped, and says why)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def shared_embedding_cache(tmp_path_factory):
    """One content-addressed embedding cache for the whole session (WORKFORCE_EMBEDDING_CACHE_DIR, as a team
    shares one): each distinct text is embedded once however many warehouses the tests build, subprocesses
    included. Tests of the cache itself pass their own folder."""
    folder = tmp_path_factory.mktemp("embedding_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKFORCE_EMBEDDING_CACHE_DIR", str(folder))
        yield folder
