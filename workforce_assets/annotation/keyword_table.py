"""Keyword sets as warehouse rows (set_name, term_group, term, + scores) and back."""

from __future__ import annotations

import polars as pl

from workforce_assets.annotation.keywords import KeywordSet

TERM_GROUPS = ("ml_terms", "broad_yes", "strict_no")


def keyword_set_to_frame(keyword_set: KeywordSet) -> pl.DataFrame:
    rows = [
        {"set_name": keyword_set.name, "term_group": group, "term": term}
        for group in TERM_GROUPS
        for term in getattr(keyword_set, group)
    ]
    return pl.DataFrame(rows, schema={"set_name": pl.Utf8, "term_group": pl.Utf8, "term": pl.Utf8})


def keyword_set_from_frame(frame: pl.DataFrame, name: str) -> KeywordSet:
    """Rebuild a set from its rows; order of terms within a group is kept."""
    rows = frame.filter(pl.col("set_name") == name)
    if rows.is_empty():
        raise ValueError(f"keyword set {name!r} has no rows")
    groups = {g: tuple(rows.filter(pl.col("term_group") == g)["term"].to_list()) for g in TERM_GROUPS}
    return KeywordSet(name=name, **groups)
