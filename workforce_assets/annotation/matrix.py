"""The annotation matrix: long form (item x annotator rows) <-> wide form, precedence, and coverage.

Annotators are aligned by canonical name, never by column position, and a missing label stays missing
(null): the headcount model treats "not asked" and "no answer" as missing, never as a 0.
"""

from __future__ import annotations

import polars as pl

from workforce_assets.annotation.names import canonical_annotator_name

LONG_COLUMNS = ("item_id", "annotator", "label", "raw_label", "source")
LONG_SCHEMA = {"item_id": pl.Utf8, "annotator": pl.Utf8, "label": pl.Int8, "raw_label": pl.Utf8, "source": pl.Utf8}
#: Lower rank wins: an imported label is never replaced by a recomputed one.
SOURCE_PRECEDENCE = {"imported": 0, "keyword_filter": 1, "llm": 1}


def validate_long(long: pl.DataFrame) -> pl.DataFrame:
    """Check columns, sources and labels of a long frame; cast to the contract's dtypes."""
    missing = [c for c in LONG_COLUMNS if c not in long.columns]
    if missing:
        raise ValueError(f"long annotations lack column(s) {missing}; have {long.columns}")
    extra = [c for c in long.columns if c not in LONG_COLUMNS]
    out = long.with_columns(
        pl.col("item_id").cast(pl.Utf8), pl.col("annotator").cast(pl.Utf8), pl.col("label").cast(pl.Int8),
        pl.col("raw_label").cast(pl.Utf8), pl.col("source").cast(pl.Utf8),
    ).select(*LONG_COLUMNS, *extra)
    if out["item_id"].null_count() or out["annotator"].null_count():
        raise ValueError("long annotations have null item_id or annotator")
    unknown = set(out["source"].unique().to_list()) - set(SOURCE_PRECEDENCE)
    if unknown:
        raise ValueError(f"unknown annotation source(s) {sorted(map(str, unknown))}; expected {sorted(SOURCE_PRECEDENCE)}")
    bad = out.filter(pl.col("label").is_not_null() & ~pl.col("label").is_in([0, 1])).height
    if bad:
        raise ValueError(f"{bad} label(s) are neither 0, 1 nor null")
    names = out["annotator"].unique().to_list()
    not_canonical = [n for n in names if canonical_annotator_name(n) != n]
    if not_canonical:
        raise ValueError(f"annotator names not canonical: {not_canonical[:5]} (use canonical_annotator_name)")
    return out


def long_to_wide(long: pl.DataFrame, annotators: list[str] | None = None) -> pl.DataFrame:
    """``item_id`` + one Int8 column per annotator (null = missing).

    ``annotators`` fixes the columns and their order (canonicalised); one without any row is an all-null
    column, and rows of annotators not listed are left out of the matrix on purpose. Without it, every
    annotator present becomes a column, sorted by name. Two rows for one (item, annotator) are an error:
    combine them with :func:`combine_annotations` first.
    """
    long = validate_long(long)
    dup = long.group_by("item_id", "annotator").len().filter(pl.col("len") > 1)
    if dup.height:
        raise ValueError(f"{dup.height} (item_id, annotator) pair(s) appear more than once, e.g. "
                         f"{dup.head(3).select('item_id', 'annotator').rows()}; use combine_annotations")
    columns = ([canonical_annotator_name(a) for a in annotators] if annotators is not None
               else sorted(long["annotator"].unique().to_list()))
    if len(set(columns)) != len(columns):
        raise ValueError(f"annotator list has duplicates after canonicalisation: {columns}")
    items = long.select("item_id").unique(maintain_order=True)
    if long.height:
        wide = long.filter(pl.col("annotator").is_in(columns)).pivot(
            on="annotator", index="item_id", values="label", aggregate_function=None)
        wide = items.join(wide, on="item_id", how="left", maintain_order="left")
    else:
        wide = items
    return wide.select(
        "item_id",
        *[(pl.col(c) if c in wide.columns else pl.lit(None)).cast(pl.Int8).alias(c) for c in columns],
    )


def wide_to_long(wide: pl.DataFrame, source: str, id_column: str = "item_id",
                 annotators: list[str] | None = None) -> pl.DataFrame:
    """The inverse view: every listed column (default: all but the id) becomes long rows of ``source``.

    Column names are canonicalised; values go through Int8 (they must already be 0/1/null).
    """
    columns = annotators if annotators is not None else [c for c in wide.columns if c != id_column]
    renamed = {c: canonical_annotator_name(c) for c in columns}
    if len(set(renamed.values())) != len(renamed):
        raise ValueError(f"columns {columns} collide after canonicalisation")
    long = (
        wide.select(pl.col(id_column).cast(pl.Utf8).alias("item_id"),
                    *[pl.col(c).cast(pl.Int8).alias(n) for c, n in renamed.items()])
        .unpivot(index="item_id", variable_name="annotator", value_name="label")
        .with_columns(pl.col("label").cast(pl.Int8), pl.lit(None, dtype=pl.Utf8).alias("raw_label"),
                      pl.lit(source).alias("source"))
    )
    return validate_long(long.select(*LONG_COLUMNS))


def combine_annotations(*long_frames: pl.DataFrame) -> pl.DataFrame:
    """One row per (item_id, annotator) from several long frames.

    Order of preference: a labelled row over a missing one, then imported over recomputed
    (keyword_filter / llm). Two different labels at the same preference level are a conflict and raise:
    which one is right cannot be decided here.
    """
    frames = [validate_long(f) for f in long_frames if f is not None]
    if not frames:
        return pl.DataFrame(schema=LONG_SCHEMA)
    extras = list(dict.fromkeys(c for f in frames for c in f.columns if c not in LONG_COLUMNS))
    # extra columns (e.g. source_file of imported labels) are kept, null where a frame lacks them
    stacked = pl.concat(frames, how="diagonal_relaxed").with_columns(
        # labelled before missing, then by source precedence: one integer so one min() decides
        (pl.col("label").is_null().cast(pl.Int16) * 100
         + pl.col("source").replace_strict(SOURCE_PRECEDENCE, return_dtype=pl.Int16)).alias("_priority"),
    )
    top = stacked.filter(pl.col("_priority") == pl.col("_priority").min().over("item_id", "annotator"))
    conflicts = top.group_by("item_id", "annotator").agg(pl.col("label").n_unique().alias("n")).filter(
        pl.col("n") > 1)
    if conflicts.height:
        raise ValueError(f"{conflicts.height} (item_id, annotator) pair(s) have conflicting labels from sources "
                         f"of equal precedence, e.g. {conflicts.head(3).select('item_id', 'annotator').rows()}")
    return (
        top.unique(["item_id", "annotator"], keep="first", maintain_order=True)
        .select(*LONG_COLUMNS, *extras)
    )


def labelled_pairs(long: pl.DataFrame) -> frozenset[tuple[str, str]]:
    """(item_id, annotator) pairs that already carry a label: the ``skip`` set for the LLM annotators."""
    labelled = validate_long(long).filter(pl.col("label").is_not_null())
    return frozenset(labelled.select("item_id", "annotator").iter_rows())


def coverage(long: pl.DataFrame, by: str | None = None) -> pl.DataFrame:
    """Per annotator (and per ``by`` group, e.g. batch): n_items, n_labelled, n_missing, share_positive.

    ``n_items`` counts every item in the frame (per group), so an annotator with no row for an item counts
    it as missing: coverage is measured against all items, not against the rows an annotator happened to get.
    ``share_positive`` is the share of 1s among labelled items (null when none is labelled).
    """
    keys = [by] if by else []
    if by and by not in long.columns:
        raise ValueError(f"coverage by {by!r}: column not in the long frame ({long.columns})")
    base = validate_long(long.select(*LONG_COLUMNS, *keys))
    if by:
        per_item = base.group_by("item_id").agg(pl.col(by).n_unique().alias("n"))
        if per_item.filter(pl.col("n") > 1).height:
            raise ValueError(f"some items belong to more than one {by!r} group")
    items_per_group = base.group_by(keys or pl.lit(1).alias("_all")).agg(
        pl.col("item_id").n_unique().alias("n_items"))
    labelled = base.group_by(*keys, "annotator").agg(
        pl.col("label").is_not_null().sum().cast(pl.Int64).alias("n_labelled"),
        pl.col("label").sum().cast(pl.Int64).alias("_n_positive"),
    )
    annotators = base.select("annotator").unique()
    groups = items_per_group if keys else items_per_group.drop("_all")
    grid = groups.join(annotators, how="cross")
    out = grid.join(labelled, on=[*keys, "annotator"], how="left").with_columns(
        pl.col("n_labelled").fill_null(0), pl.col("_n_positive").fill_null(0))
    return out.select(
        *keys,
        "annotator",
        pl.col("n_items").cast(pl.Int64),
        "n_labelled",
        (pl.col("n_items") - pl.col("n_labelled")).alias("n_missing"),
        pl.when(pl.col("n_labelled") > 0).then(pl.col("_n_positive") / pl.col("n_labelled")).alias(
            "share_positive"),
    ).sort(*keys, "annotator")
