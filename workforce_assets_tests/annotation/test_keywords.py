"""Keyword filters: the matching rule on tricky text, and agreement with the published filter columns."""

from __future__ import annotations

import polars as pl
import pytest

from workforce_assets.annotation.keywords import (
    FILTER_NAMES,
    REFERENCE_KEYWORDS,
    KeywordSet,
    apply_keyword_filters,
    keyword_hits,
    normalise_term,
    terms_pattern,
)

ML_ONLY = KeywordSet("t", ml_terms=REFERENCE_KEYWORDS.ml_terms, broad_yes=("research scientist",),
                     strict_no=("cross functional", "hr"))


def _has_ml(texts: list[str]) -> list[bool | None]:
    items = pl.DataFrame({"item_id": [str(i) for i in range(len(texts))], "text": texts})
    return keyword_hits(items, ML_ONLY)["has_ml"].to_list()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Built ML-based ranking", True),
        ("machine-learning engineer", True),
        ("machine_learning pipelines", True),
        ("Machine\nLearning", True),
        ("#MachineLearning #DeepLearning", True),
        ("Courses: DeepLearning.AI", True),
        ("deeplearning in lower case", False),  # run-together lower case is not the two words
        ("(ML)", True),
        ("ML/AI lead", True),
        ("ml.", True),
        ("Wrote HTML and XML", False),
        ("MLOps platform", False),
        ("Checked every URL", False),
        ("curl the endpoint", False),
        ("RL agents for robotics", True),
        ("reinforcement-learning from human feedback", True),
        ("Инженер ML в Москве", True),
        ("Ingénieur en apprentissage automatique (ML), Paris", True),
        ("MLé", False),  # a Unicode letter glued on is part of the word
        ("机器学习 ML 工程师", True),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_ml_term_matching_on_tricky_text(text, expected):
    assert _has_ml([text]) == [expected]


def test_multiword_terms_and_boundaries_in_other_groups():
    items = pl.DataFrame({
        "item_id": ["a", "b", "c", "d", "e"],
        "text": ["ML; cross-functional teams", "ML crossfunctional", "ML, HR partner", "ML with threshold",
                 "ML Staff Research  Scientist"],
    })
    hits = keyword_hits(items, ML_ONLY)
    assert hits["has_strict_no"].to_list() == [True, False, True, False, False]
    assert hits["has_broad_yes"].to_list() == [False, False, False, False, True]


def test_filters_logic_and_long_form():
    items = pl.DataFrame({
        "item_id": ["yes_only", "no_only", "both", "neither", "no_ml", "empty"],
        "text": ["ML research scientist", "ML and HR", "ML research scientist, HR", "ML engineer",
                 "research scientist", ""],
    })
    long = apply_keyword_filters(items, ML_ONLY)
    assert long.columns == ["item_id", "annotator", "label", "raw_label", "source"]
    assert long.schema["label"] == pl.Int8
    assert set(long["source"].unique()) == {"keyword_filter"}
    assert long.height == items.height * 3
    wide = long.pivot(on="annotator", index="item_id", values="label")
    got = {r["item_id"]: tuple(r[f] for f in FILTER_NAMES) for r in wide.iter_rows(named=True)}
    assert got == {
        "yes_only": (1, 1, 1),
        "no_only": (0, 0, 0),
        "both": (1, 0, 0),
        "neither": (0, 1, 0),
        "no_ml": (0, 0, 0),
        "empty": (None, None, None),
    }


def test_custom_column_names_and_bad_items():
    items = pl.DataFrame({"cv_id": ["x"], "cv_text": ["deep learning researcher, doctor"]})
    long = apply_keyword_filters(items, REFERENCE_KEYWORDS, id_column="cv_id", text_column="cv_text")
    assert long.filter(pl.col("annotator") == "filter_broad_yes")["label"].to_list() == [1]
    with pytest.raises(ValueError, match="duplicate"):
        apply_keyword_filters(pl.DataFrame({"item_id": ["a", "a"], "text": ["x", "y"]}), REFERENCE_KEYWORDS)
    with pytest.raises(ValueError, match="lack column"):
        apply_keyword_filters(pl.DataFrame({"item_id": ["a"]}), REFERENCE_KEYWORDS)
    with pytest.raises(ValueError, match="null item_id"):
        apply_keyword_filters(pl.DataFrame({"item_id": [None], "text": ["x"]}, schema={"item_id": pl.Utf8,
                                                                                      "text": pl.Utf8}),
                              REFERENCE_KEYWORDS)


def test_terms_that_cannot_be_word_matched_are_refused():
    with pytest.raises(ValueError):
        normalise_term("c++")
    with pytest.raises(ValueError):
        KeywordSet("bad", ml_terms=("ML",), broad_yes=("node.js",), strict_no=("x",))
    with pytest.raises(ValueError, match="empty"):
        KeywordSet("bad", ml_terms=(), broad_yes=("a",), strict_no=("b",))
    # empty evidence groups are allowed (a learned set may find none) and never match
    no_groups = KeywordSet("ml_only", ml_terms=("ML",), broad_yes=(), strict_no=())
    long = apply_keyword_filters(pl.DataFrame({"item_id": ["a"], "text": ["ML engineer"]}), no_groups)
    assert dict(zip(long["annotator"], long["label"])) == {
        "filter_broad_yes": 0, "filter_strict_no": 1, "filter_broad_yes_strict_no": 0}
    assert normalise_term("Cross-Functional") == "cross functional"
    # regex metacharacters are never interpreted; only words are allowed in the first place
    assert terms_pattern(("a b",)).startswith("(?i)\\b")


def test_reference_lists_are_the_published_ones():
    assert len(REFERENCE_KEYWORDS.broad_yes) == 14
    assert len(REFERENCE_KEYWORDS.strict_no) == 41
    assert REFERENCE_KEYWORDS.name == "reference"
    assert KeywordSet.from_dict(REFERENCE_KEYWORDS.to_dict()) == REFERENCE_KEYWORDS


def test_reference_filters_reproduce_published_columns(shared_data):
    rated = pl.read_csv(shared_data / "annotations" / "validation_annotations.csv")
    ours = apply_keyword_filters(rated, REFERENCE_KEYWORDS, id_column="cv_id", text_column="cv_text")
    wide = ours.pivot(on="annotator", index="item_id", values="label").join(
        rated.select(pl.col("cv_id").alias("item_id"), *[pl.col(f).alias(f"{f}_published") for f in FILTER_NAMES]),
        on="item_id",
    )
    assert wide.height == 585
    for name in FILTER_NAMES:
        agreement = (wide[name] == wide[f"{name}_published"]).mean()
        assert agreement == 1.0, f"{name}: agreement {agreement:.4f}"
